/**
 * The code section of a core module: the function bodies' framing and local declarations. The
 * instructions themselves are decoded by `../code.ts` (`decodeBody`).
 */
import { WasmFormatError, type Cursor, type StreamReader } from '../reader.js';
import { decodeBody, valType as coreValType, type DecodeState } from '../code.js';
import type { SectionHeader } from '../section.js';

/**
 * Code sections up to this size are buffered whole and decoded in one synchronous pass over one buffer
 * (one DataView, no per-body cursor or await). Larger ones - or a code section the input cuts short - are
 * decoded body by body as they stream in, holding one function body at a time.
 */
export const CODE_BUFFER_MAX = 32 * 1024 * 1024;

export async function codeSection(r: StreamReader, h: SectionHeader, st: DecodeState): Promise<number> {
  if (h.size <= CODE_BUFFER_MAX && (await buffered(r, h.size)) === h.size) {
    return codeBodies(await r.cursor(h.size, 'the code section'), st);
  }
  const end = h.offset + h.size;
  const n = await r.parse(Math.min(5, h.size), (c) => c.u32());
  if (n > end - r.offset) throw new WasmFormatError(`function body count ${n} is larger than the bytes left`, h.offset);
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    let c = r.sizedNow();
    if (!c) {
      const size = await r.parse(Math.min(5, end - at), (cur) => cur.u32());
      if (r.offset + size > end) throw new WasmFormatError(`function body ${i} length ${size} runs past the end of the code section`, at);
      c = await r.cursor(size, `function body ${i}`);
    } else if (c.base + c.end > end) {
      throw new WasmFormatError(`function body ${i} length ${c.end} runs past the end of the code section`, at);
    }
    locals(c, st);
    st.instructions += decodeBody(c, new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength), st);
  }
  if (r.offset !== end) throw new WasmFormatError(`code section has ${end - r.offset} bytes left over`, r.offset);
  return n;
}

/** How many of the next n bytes the reader can buffer; a source that fails on the way counts as short. */
async function buffered(r: StreamReader, n: number): Promise<number> {
  try {
    return await r.need(n);
  } catch (err) {
    if (err instanceof WasmFormatError) return -1;
    throw err;
  }
}

/** A whole code section in one buffer: the count, then each body (size, locals, instructions). */
function codeBodies(c: Cursor, st: DecodeState): number {
  const sectionEnd = c.end;
  const view = new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength);
  const start = c.offset;
  const n = c.u32();
  if (n > sectionEnd - c.pos) throw new WasmFormatError(`function body count ${n} is larger than the bytes left`, start);
  let instructions = 0;
  for (let i = 0; i < n; i++) {
    const at = c.offset;
    const size = c.u32();
    if (size > sectionEnd - c.pos) throw new WasmFormatError(`function body ${i} length ${size} runs past the end of the code section`, at);
    c.end = c.pos + size;
    locals(c, st);
    instructions += decodeBody(c, view, st);
    c.end = sectionEnd;
  }
  st.instructions += instructions;
  if (c.pos !== sectionEnd) throw new WasmFormatError(`code section has ${sectionEnd - c.pos} bytes left over`, c.offset);
  return n;
}

/** A function body's local declarations: groups of (count, value type). */
function locals(c: Cursor, st: DecodeState): void {
  const groups = c.count('local group', 2);
  for (let g = 0; g < groups; g++) {
    c.u32();
    coreValType(c, st);
  }
}

/** The data section of a core module: segment headers are decoded, their payloads skipped without being kept. */
import type { WasmReport } from '../schema.js';
import { WasmFormatError, type StreamReader } from '../reader.js';
import { F, decodeExpr, type DecodeState } from '../code.js';
import type { SectionHeader } from '../section.js';

export async function dataSection(r: StreamReader, h: SectionHeader, st: DecodeState, rep: WasmReport): Promise<number> {
  const end = h.offset + h.size;
  const n = await r.parse(Math.min(5, h.size), (c) => c.u32());
  if (n > end - r.offset) throw new WasmFormatError(`data segment count ${n} is larger than the bytes left`, h.offset);
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const len = await r.parse(end - at, (c) => {
      const flags = c.u32();
      if (flags > 2) c.fail(`invalid data segment flags ${flags}`, at);
      if (flags === 1) {
        st.features |= F.bulkMemory;
        rep.data.passive++;
      } else {
        if (flags === 2 && c.u32() !== 0) st.features |= F.multiMemory;
        decodeExpr(c, st, false);
      }
      return c.u32();
    });
    if (r.offset + len > end) throw new WasmFormatError(`data segment ${i} length ${len} runs past the end of the data section`, at);
    await r.skip(len, `data segment ${i}`);
    rep.data.bytes += len;
  }
  rep.data.segments = n;
  if (r.offset !== end) throw new WasmFormatError(`data section has ${end - r.offset} bytes left over`, r.offset);
  return n;
}

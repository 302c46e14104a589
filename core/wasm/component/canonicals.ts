/** The canonical definition section (8) of a component: lift, lower and the canonical built-ins. */
import type { WasmReport } from '../schema.js';
import type { Cursor } from '../reader.js';
import { optional, valType } from './values.js';

type ComponentInfo = NonNullable<WasmReport['component']>;

/** Canonical built-ins by opcode: name and immediates (t: typeidx, o: opts, a: async?/cancel?, s: shared?, ...). */
const CANON: Record<number, [string, string]> = {
  0x02: ['resource.new', 't'],
  0x03: ['resource.drop', 't'],
  0x04: ['resource.rep', 't'],
  0x05: ['task.cancel', ''],
  0x06: ['subtask.cancel', 'a'],
  0x09: ['task.return', 'ro'],
  0x0a: ['context.get', 'vi'],
  0x0b: ['context.set', 'vi'],
  0x0c: ['thread.yield', 'a'],
  0x0d: ['subtask.drop', ''],
  0x0e: ['stream.new', 't'],
  0x0f: ['stream.read', 'to'],
  0x10: ['stream.write', 'to'],
  0x11: ['stream.cancel-read', 'ta'],
  0x12: ['stream.cancel-write', 'ta'],
  0x13: ['stream.drop-readable', 't'],
  0x14: ['stream.drop-writable', 't'],
  0x15: ['future.new', 't'],
  0x16: ['future.read', 'to'],
  0x17: ['future.write', 'to'],
  0x18: ['future.cancel-read', 'ta'],
  0x19: ['future.cancel-write', 'ta'],
  0x1a: ['future.drop-readable', 't'],
  0x1b: ['future.drop-writable', 't'],
  0x1c: ['error-context.new', 'o'],
  0x1d: ['error-context.debug-message', 'o'],
  0x1e: ['error-context.drop', ''],
  0x1f: ['waitable-set.new', ''],
  0x20: ['waitable-set.wait', 'ai'],
  0x21: ['waitable-set.poll', 'ai'],
  0x22: ['waitable-set.drop', ''],
  0x23: ['waitable.join', ''],
  0x24: ['backpressure.inc', ''],
  0x25: ['backpressure.dec', ''],
  0x26: ['thread.index', ''],
  0x27: ['thread.new-indirect', 'ii'],
  0x28: ['thread.resume-later', ''],
  0x29: ['thread.suspend', 'a'],
  0x2a: ['thread.suspend-then-resume', 'a'],
  0x2b: ['thread.yield-then-resume', 'a'],
  0x2c: ['thread.suspend-then-promote', 'a'],
  0x2d: ['thread.yield-then-promote', 'a'],
  0x40: ['thread.spawn-ref', 'si'],
  0x41: ['thread.spawn-indirect', 'sii'],
  0x42: ['thread.available-parallelism', 's'],
};

/**
 * A canonical definition. lift, lower and resource.new/drop/rep are the basic set; every other built-in
 * (async, streams, futures, error contexts, threads) is recorded in `advanced`, and the async/callback
 * options too. thread.spawn-ref / thread.spawn-indirect (shared-everything threads) are thread use.
 */
export function canon(c: Cursor, rep: WasmReport, advanced: string[]): ComponentInfo['canonDefs'][number] {
  const at = c.offset;
  const op = c.u8();
  if (op === 0x00 || op === 0x01) {
    const sat = c.offset;
    if (c.u8() !== 0x00) c.fail('invalid canon function sort', sat);
    const func = c.u32();
    const options = canonOptions(c, advanced);
    const type = op === 0x00 ? c.u32() : null;
    return { op: op === 0x00 ? 'lift' : 'lower', func, type, options };
  }
  const known = CANON[op];
  if (!known) return c.fail(`unknown canonical definition 0x${op.toString(16)}`, at);
  const [label, immediates] = known;
  const def: ComponentInfo['canonDefs'][number] = { op: label, func: null, type: null, options: [] };
  for (const imm of immediates) {
    if (imm === 't') def.type = c.u32();
    else if (imm === 'i') c.u32();
    else if (imm === 'o') def.options.push(...canonOptions(c, advanced));
    else if (imm === 'a') {
      if (optional(c)) def.options.push(label.includes('cancel') && !label.startsWith('thread') ? 'async' : 'cancellable');
    } else if (imm === 's') {
      if (optional(c)) def.options.push('shared');
    } else if (imm === 'v') {
      const vat = c.offset;
      const t = c.u8();
      if (t !== 0x7f && t !== 0x7e) c.fail(`invalid context value type 0x${t.toString(16)}`, vat);
    } else if (imm === 'r') {
      // resultlist ::= 0x00 valtype | 0x01 0x00
      const rat = c.offset;
      const r = c.u8();
      if (r === 0x00) valType(c);
      else if (r !== 0x01 || c.u8() !== 0x00) c.fail('invalid result list', rat);
    }
  }
  if (op > 0x04) advanced.push(label);
  if (op === 0x40 || op === 0x41) {
    rep.threads.spawn.push(`canon ${label}`);
    rep.threads.uses = true;
  }
  return def;
}

function canonOptions(c: Cursor, advanced: string[]): string[] {
  const n = c.count('canon option');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = c.offset;
    const opt = c.u8();
    if (opt <= 0x02) out.push(['string-encoding=utf8', 'string-encoding=utf16', 'string-encoding=latin1+utf16'][opt]!);
    else if (opt === 0x03) out.push(`memory ${c.u32()}`);
    else if (opt === 0x04) out.push(`realloc ${c.u32()}`);
    else if (opt === 0x05) out.push(`post-return ${c.u32()}`);
    else if (opt === 0x06) {
      out.push('async');
      advanced.push('async');
    } else if (opt === 0x07) {
      out.push(`callback ${c.u32()}`);
      advanced.push('callback');
    } else c.fail(`invalid canon option 0x${opt.toString(16)}`, at);
  }
  return out;
}

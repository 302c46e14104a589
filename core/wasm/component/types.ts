/**
 * The type (7) and core type (3) sections of a component: defined value types, function, component,
 * instance and resource types, and core module types (whose core parts the module reader decodes).
 */
import type { Cursor } from '../reader.js';
import type { DecodeState } from '../code.js';
import { globalType, memType, tableType, typeEntry } from '../module/types.js';
import { PRIMITIVES, optional, optionalValType, valType } from './values.js';
import { externName, externType } from './sorts.js';
import { alias } from './aliases.js';

/** Nesting limit for component, instance and module types (each level is at least two bytes). */
export const MAX_TYPE_DEPTH = 64;

function labels(c: Cursor, what: string, withType: boolean): void {
  const n = c.count(what, 2);
  for (let i = 0; i < n; i++) {
    c.name();
    if (withType) valType(c);
  }
}

/** deftype: a value type, a function, component, instance or resource type. Returns its kind. */
export function defType(c: Cursor, depth: number): string {
  if (depth > MAX_TYPE_DEPTH) c.fail('component types nested too deeply');
  const at = c.offset;
  const form = c.u8();
  const prim = PRIMITIVES[form];
  if (prim !== undefined) return prim;
  switch (form) {
    case 0x72:
      labels(c, 'record field', true);
      return 'record';
    case 0x71: {
      const n = c.count('variant case', 3);
      for (let i = 0; i < n; i++) {
        c.name();
        optionalValType(c);
        const zat = c.offset;
        if (c.u8() !== 0x00) c.fail('invalid variant case trailer', zat);
      }
      return 'variant';
    }
    case 0x70:
      valType(c);
      return 'list';
    case 0x67:
      valType(c);
      c.u32();
      return 'list';
    case 0x6f: {
      const n = c.count('tuple field');
      for (let i = 0; i < n; i++) valType(c);
      return 'tuple';
    }
    case 0x6e:
      labels(c, 'flag', false);
      return 'flags';
    case 0x6d:
      labels(c, 'enum case', false);
      return 'enum';
    case 0x6b:
      valType(c);
      return 'option';
    case 0x6a:
      optionalValType(c);
      optionalValType(c);
      return 'result';
    case 0x69:
      c.u32();
      return 'own';
    case 0x68:
      c.u32();
      return 'borrow';
    case 0x66:
      optionalValType(c);
      return 'stream';
    case 0x65:
      optionalValType(c);
      return 'future';
    case 0x63:
      valType(c);
      valType(c);
      return 'map';
    case 0x40:
    case 0x43: {
      labels(c, 'parameter', true);
      const rat = c.offset;
      const r = c.u8();
      if (r === 0x00) valType(c);
      else if (r !== 0x01 || c.u8() !== 0x00) c.fail('invalid function result list', rat);
      return form === 0x43 ? 'async func' : 'func';
    }
    case 0x41: {
      const n = c.count('component type declaration', 2);
      for (let i = 0; i < n; i++) {
        if (c.bytes[c.pos] === 0x03) {
          c.u8();
          externName(c);
          externType(c);
        } else instanceDecl(c, depth);
      }
      return 'component';
    }
    case 0x42: {
      const n = c.count('instance type declaration', 2);
      for (let i = 0; i < n; i++) instanceDecl(c, depth);
      return 'instance';
    }
    case 0x3f: {
      // resourcetype ::= 0x3f core:valtype (i32 or i64 representation) funcidx?
      const rat = c.offset;
      const rep = c.u8();
      if (rep !== 0x7f && rep !== 0x7e) c.fail(`invalid resource representation 0x${rep.toString(16)}`, rat);
      if (optional(c)) c.u32();
      return 'resource';
    }
    default:
      return c.fail(`invalid component type 0x${form.toString(16)}`, at);
  }
}

/** instancedecl ::= 0x00 core:type | 0x01 type | 0x02 alias | 0x04 exportdecl */
function instanceDecl(c: Cursor, depth: number): void {
  const at = c.offset;
  const tag = c.u8();
  if (tag === 0x00) coreType(c, depth + 1);
  else if (tag === 0x01) defType(c, depth + 1);
  else if (tag === 0x02) alias(c);
  else if (tag === 0x04) {
    externName(c);
    externType(c);
  } else c.fail(`invalid instance type declaration 0x${tag.toString(16)}`, at);
}

/**
 * core:type ::= core:rectype (GC types) | 0x00 0x50 ... (a non-final subtype) | 0x50 vec(moduledecl).
 * Types declare, they do not use: their features are not the component's, so a scratch state is used.
 */
export function coreType(c: Cursor, depth: number): string {
  if (depth > MAX_TYPE_DEPTH) c.fail('component types nested too deeply');
  const scratch: DecodeState = { features: 0, instructions: 0 };
  const form = c.bytes[c.pos];
  if (form === 0x50) {
    c.u8();
    const n = c.count('module type declaration', 2);
    for (let i = 0; i < n; i++) {
      const at = c.offset;
      const tag = c.u8();
      if (tag === 0x00) {
        c.name();
        c.name();
        coreExternType(c, scratch);
      } else if (tag === 0x01) coreType(c, depth + 1);
      else if (tag === 0x02) {
        const aat = c.offset;
        if (c.u8() !== 0x10 || c.u8() !== 0x01) c.fail('invalid core alias in a module type', aat);
        c.u32();
        c.u32();
      } else if (tag === 0x03) {
        c.name();
        coreExternType(c, scratch);
      } else c.fail(`invalid module type declaration 0x${tag.toString(16)}`, at);
    }
    return 'module';
  }
  if (form === 0x00) {
    c.u8();
    if (c.bytes[c.pos] !== 0x50) c.fail('invalid core type prefix');
  }
  const at = c.offset;
  typeEntry(c, scratch);
  const first = c.bytes[at - c.base];
  return first === 0x60 ? 'func' : first === 0x4e ? 'rec' : first === 0x5f ? 'struct' : first === 0x5e ? 'array' : 'sub';
}

/** A core import/export descriptor inside a module type. */
function coreExternType(c: Cursor, st: DecodeState): void {
  const at = c.offset;
  const kind = c.u8();
  if (kind === 0x00) c.u32();
  else if (kind === 0x01) tableType(c, st);
  else if (kind === 0x02) memType(c, st);
  else if (kind === 0x03) globalType(c, st);
  else if (kind === 0x04) {
    if (c.u8() !== 0) c.fail('invalid tag attribute');
    c.u32();
  } else c.fail(`invalid import kind ${kind}`, at);
}

import { describe, expect, it } from 'vitest';
import { PARALLEL_CHECK_MIN_BYTES, parseWasm } from '../../../../core/wasm/parser.js';
import { bytesSource } from '../../../../core/wasm/reader.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { WasmReportSchema } from '../../../../core/api/contract.js';
import { buildComponent, customSection, fixtureBytes, type Fixture } from '../../../support/wasm.js';

const parse = (bytes: Uint8Array, name = 'test.wasm') => parseWasm(bytesSource(bytes), { name });

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function malformed(bytes: Uint8Array): Promise<FlightDeckError> {
  const err = await parse(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlightDeckError);
  const fde = err as FlightDeckError;
  expect(fde.code).toBe('WASM_MALFORMED');
  expect(fde.message).toContain('test.wasm');
  expect(fde.message).toMatch(/byte offset \d+/);
  expect(typeof fde.details?.offset).toBe('number');
  return fde;
}

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

describe('parseWasm: core modules', () => {
  it('reports exactly 16 MiB of memory, code and exports', async () => {
    const rep = await parse(fixtureBytes('mem-16mib'));
    expect(rep.kind).toBe('module');
    expect(rep.memories).toEqual([
      {
        index: 0,
        imported: false,
        initial: 256,
        maximum: 256,
        shared: false,
        memory64: false,
        pageSize: 65536,
        initialBytes: 16 * 1024 * 1024,
        maximumBytes: 16 * 1024 * 1024,
      },
    ]);
    expect(rep.exports.map((e) => [e.name, e.kind])).toEqual([
      ['memory', 'memory'],
      ['answer', 'func'],
    ]);
    expect(rep.functions).toEqual({ imported: 0, defined: 1 });
    expect(rep.features).toEqual([]);
    expect(rep.validation).toMatchObject({ checked: true, valid: true });
    expect(rep.sections.map((s) => s.name)).toEqual(['type', 'function', 'memory', 'export', 'code']);
    expect(rep.size).toBe(fixtureBytes('mem-16mib').length);
  });

  const cases: Array<[Fixture, string[]]> = [
    ['shared-memory', ['threads']],
    ['simd', ['simd']],
    ['bulk-memory', ['bulk-memory']],
    ['reference-types', ['reference-types']],
    ['tail-call', ['tail-call']],
    ['exceptions', ['exception-handling']],
    ['memory64', ['memory64']],
    ['multi-memory', ['multi-memory']],
  ];
  it.each(cases)('finds the features %s uses by decoding its code', async (name, features) => {
    const rep = await parse(fixtureBytes(name));
    expect(rep.features).toEqual(features);
    expect(rep.instructions).toBeGreaterThan(0);
  });

  it('does not trust target_features: declared simd and atomics, used neither', async () => {
    const rep = await parse(fixtureBytes('target-features'));
    expect(rep.targetFeatures).toEqual([
      { prefix: '+', name: 'simd' },
      { prefix: '+', name: 'atomics' },
    ]);
    expect(rep.features).toEqual([]);
    expect(rep.producers).toEqual({ 'processed-by': [{ name: 'clang', version: '18.1.0' }] });
    expect(rep.customSections.map((s) => s.name)).toEqual(['target_features', 'producers']);
  });

  it('reports thread use: shared memory and the wasi-threads thread-spawn import', async () => {
    const rep = await parse(fixtureBytes('wasi-threads'));
    expect(rep.threads).toEqual({ uses: true, sharedMemory: true, spawn: ['wasi.thread-spawn'] });
    expect(rep.memories[0]).toMatchObject({ imported: true, shared: true, initial: 1, maximum: 1 });
    expect(rep.imports).toEqual([
      { module: 'env', name: 'memory', kind: 'memory' },
      { module: 'wasi', name: 'thread-spawn', kind: 'func' },
    ]);
  });

  it('counts data segment bytes, passive segments and 64-bit memories', async () => {
    const bulk = await parse(fixtureBytes('bulk-memory'));
    expect(bulk.data).toEqual({ segments: 2, passive: 1, bytes: 128 + 15 });
    const m64 = await parse(fixtureBytes('memory64'));
    expect(m64.memories[0]).toMatchObject({ memory64: true, initial: 1, maximum: 4 });
    expect(m64.validation.checked).toBe(false); // V8 in Node 20 lacks memory64: the cross-check is skipped, not trusted
    const unbounded = await parse(fixtureBytes('unbounded'));
    expect(unbounded.memories[0]).toMatchObject({ maximum: null, maximumBytes: null });
  });

  it('keeps absurd 64-bit limits as safe integers (the report stays valid for the api)', async () => {
    // memory i64 with initial = 2^60 pages: flags 0x04, u64 LEB of 2^60
    const huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
    const rep = await parse(Buffer.from([...HEADER, 0x05, 2 + huge.length, 0x01, 0x04, ...huge]));
    expect(rep.memories[0]).toMatchObject({ memory64: true, initial: Number.MAX_SAFE_INTEGER, initialBytes: Number.MAX_SAFE_INTEGER });
    expect(WasmReportSchema.parse(rep)).toEqual(rep);
  });

  it('gives the same report whatever the chunk size of the stream', async () => {
    for (const name of ['simd', 'bulk-memory', 'target-features'] as const) {
      const bytes = fixtureBytes(name);
      const whole = await parse(bytes);
      for (const size of [1, 3, 7, 64]) {
        expect(await parseWasm(chunked(bytes, size), { name: 'test.wasm' })).toEqual(whole);
      }
    }
  });

  it('skips an unknown custom section without keeping it, even a large one', async () => {
    const big = Buffer.concat([fixtureBytes('mem-16mib'), customSection('debug_info', new Uint8Array(3 * 1024 * 1024))]);
    const rep = await parseWasm(chunked(big, 65536), { name: 'test.wasm' });
    expect(rep.customSections).toEqual([{ name: 'debug_info', size: 3 * 1024 * 1024 + 11 }]);
  });
});

describe('parseWasm: components', () => {
  it('parses a component with a nested core module, instances, canon, imports and exports', async () => {
    const core = fixtureBytes('shared-memory');
    const rep = await parse(buildComponent(core));
    expect(rep.kind).toBe('component');
    expect(rep.version).toBe(0x0d);
    expect(rep.component).toMatchObject({ coreModules: 1, coreInstances: 1, types: 1, canons: 1, advancedCanon: [] });
    expect(rep.nested).toHaveLength(1);
    expect(rep.nested[0]!.path).toBe('module[0]');
    expect(rep.nested[0]!.report.memories[0]).toMatchObject({ shared: true, initial: 1, maximum: 16 });
    expect(rep.features).toEqual(['component-model', 'threads']);
    expect(rep.threads.uses).toBe(true);
    expect(rep.imports).toEqual([{ module: '', name: 'wasi:cli/environment', kind: 'func' }]);
    expect(rep.exports).toEqual([{ name: 'run', kind: 'func', index: 0 }]);
  });

  it('records canonical built-ins beyond the basic set', async () => {
    const rep = await parse(buildComponent(fixtureBytes('mem-16mib'), [0x09, 0x01, 0x00, 0x00]));
    expect(rep.component?.advancedCanon).toEqual(['task.return']);
    expect(rep.component?.canonDefs.map((d) => d.op)).toEqual(['lift', 'task.return']);
  });

  it('reports a broken nested module with its absolute offset', async () => {
    const core = Buffer.from(fixtureBytes('mem-16mib'));
    core[core.length - 1] = 0xff; // last byte of the code: end -> unknown opcode
    const err = await malformed(buildComponent(core));
    expect(err.message).toContain('nested module[0]');
    expect(err.details?.offset).toBe(8 + 1 + 1 + core.length - 1);
  });
});

describe('parseWasm: bad input is WASM_MALFORMED with the offset, never a crash', () => {
  it('wrong magic', async () => {
    expect((await malformed(Buffer.from('\0asn\x01\0\0\0'))).details?.offset).toBe(0);
  });

  it('wrong version', async () => {
    const err = await malformed(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00]));
    expect(err.details?.offset).toBe(4);
    expect(err.message).toContain('version');
  });

  it('truncated at every length inside a section', async () => {
    const bytes = fixtureBytes('simd');
    const ends = new Set([8, ...(await parse(bytes)).sections.map((s) => s.offset + s.size)]);
    for (let n = 0; n < bytes.length; n++) {
      if (ends.has(n)) continue; // a cut between sections leaves a shorter module, which may be valid
      const err = await malformed(bytes.subarray(0, n));
      expect(err.details?.offset as number).toBeLessThanOrEqual(n);
    }
  });

  it('LEB128 overflow', async () => {
    const err = await malformed(Buffer.from([...HEADER, 0x01, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    expect(err.message).toContain('LEB128 overflow');
    expect(err.details?.offset).toBe(9);
  });

  it('section length past the end (known size)', async () => {
    const bytes = Buffer.from([...HEADER, 0x01, 0x10, 0x00]);
    const err = await parseWasm(bytesSource(bytes), { name: 'test.wasm', size: bytes.length }).catch((e: FlightDeckError) => e);
    expect(err).toMatchObject({ code: 'WASM_MALFORMED', details: { offset: 8 } });
    expect((await malformed(bytes)).message).toContain('needs 16 bytes');
  });

  it('duplicate and out-of-order sections', async () => {
    const type = [0x01, 0x04, 0x01, 0x60, 0x00, 0x00];
    expect((await malformed(Buffer.from([...HEADER, ...type, ...type]))).message).toContain('duplicate type section');
    const memory = [0x05, 0x03, 0x01, 0x00, 0x01];
    const err = await malformed(Buffer.from([...HEADER, ...memory, ...type]));
    expect(err.message).toContain('out-of-order type section');
    expect(err.details?.offset).toBe(13);
  });

  it('absurd counts', async () => {
    const err = await malformed(Buffer.from([...HEADER, 0x03, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(err.message).toContain('count 4294967295');
  });

  it('unknown opcodes and section ids', async () => {
    const bytes = Buffer.from(fixtureBytes('mem-16mib'));
    bytes[bytes.length - 2] = 0xe7; // i32.const immediate 42 -> still valid; change the opcode instead
    bytes[bytes.length - 3] = 0xe7;
    expect((await malformed(bytes)).message).toMatch(/unknown opcode 0xe7/);
    expect((await malformed(Buffer.from([...HEADER, 0x20, 0x00]))).message).toContain('unknown section id 32');
  });

  it('a module the engine rejects although it is well framed', async () => {
    // (func (result i32)) with an empty body: types do not match, which only validation sees.
    const bytes = Buffer.from([...HEADER, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
    const err = await malformed(bytes);
    expect(err.message).toContain('rejects the module');
    // Nested in a component, the engine's offset is shifted to the module's place in the file.
    const nested = await malformed(buildComponent(bytes));
    expect(nested.details?.offset).toBe((err.details?.offset as number) + 8 + 2);
  });

  it('a large module (≥ PARALLEL_CHECK_MIN_BYTES) is cross-checked by the engine in a worker with the same verdict', async () => {
    const bad = Buffer.from([...HEADER, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
    const pad = customSection('padding', new Uint8Array(PARALLEL_CHECK_MIN_BYTES));
    const small = await malformed(bad);
    // The size is declared (as a file's is), so the parser reads it whole and hands it to the worker.
    for (const source of [bytesSource(Buffer.concat([bad, pad])), chunked(Buffer.concat([bad, pad]), 1 << 20)]) {
      const err = (await parseWasm(source, { name: 'big.wasm', size: bad.length + pad.length }).then(
        () => undefined,
        (e: unknown) => e,
      )) as FlightDeckError;
      expect(err).toBeInstanceOf(FlightDeckError);
      expect(err.code).toBe('WASM_MALFORMED');
      expect(err.message).toContain('rejects the module');
      expect(err.details?.offset).toBe(small.details?.offset);
    }
    const good = Buffer.concat([fixtureBytes('mem-16mib'), pad]);
    const rep = await parseWasm(chunked(good, 1 << 20), { name: 'big.wasm', size: good.length });
    expect(rep.validation).toMatchObject({ checked: true, valid: true });
    expect(rep.size).toBe(good.length);
    // A declared size the input does not have: no worker; checked inline on the decoder's own copy, as before.
    const off = await parseWasm(bytesSource(good), { name: 'big.wasm', size: good.length + 10 });
    expect(off.validation).toMatchObject({ checked: true, valid: true });
  });
});

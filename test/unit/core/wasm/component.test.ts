/**
 * Component decoding (component model Binary.md, layer 1): a real component built by wasm-tools'
 * wit-component (through @bytecodealliance/jco-transpile) checked against wasm-tools' own printout, and
 * hand-built entries for thread built-ins and malformed input.
 */
import { describe, expect, it } from 'vitest';
import { parseWasm } from '../../../../core/wasm/parser.js';
import { bytesSource } from '../../../../core/wasm/reader.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { WasmReportSchema } from '../../../../core/api/contract.js';
import { buildComponent, fixtureBytes, realComponent } from '../../../support/wasm.js';

const parse = (bytes: Uint8Array) => parseWasm(bytesSource(bytes), { name: 'c.wasm' });

/** Top-level definitions of wasm-tools' printout: the lines indented by exactly two spaces. */
function topLevel(wat: string): string[] {
  return wat.split('\n').filter((l) => /^ {2}\(/.test(l));
}

describe('components: a real wit-component build against wasm-tools print', () => {
  it('decodes every import, export, core instance, alias, type and canonical definition', async () => {
    const { bytes, wat } = await realComponent();
    const rep = await parse(bytes);
    expect(WasmReportSchema.parse(rep)).toEqual(rep);
    const lines = topLevel(wat);
    const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
    const c = rep.component!;

    const imports = lines.filter((l) => l.startsWith('  (import ')).map((l) => /^ {2}\(import "([^"]+)" \((\w+)/.exec(l)!.slice(1));
    expect(rep.imports.map((i) => [i.name, i.kind])).toEqual(imports);
    expect(imports.length).toBe(3);
    const exports = lines.filter((l) => l.startsWith('  (export ')).map((l) => /"([^"]+)" \((\w+)/.exec(l.replace(/\(@name "[^"]*"\) /, ''))!.slice(1));
    expect(rep.exports.map((e) => [e.name, e.kind])).toEqual(exports);

    expect(c.coreInstanceDefs).toHaveLength(count(/^ {2}\(core instance /));
    expect(c.instanceDefs).toHaveLength(count(/^ {2}\(instance /));
    expect(c.aliasDefs).toHaveLength(count(/^ {2}\(alias /));
    expect(c.aliasDefs.filter((a) => a.target === 'core export')).toHaveLength(count(/^ {2}\(alias core export /));
    expect(c.typeDefs).toHaveLength(count(/^ {2}\(type /));
    expect(c.coreTypeDefs).toHaveLength(count(/^ {2}\(core type /));
    expect(c.coreModules).toBe(count(/^ {2}\(core module /));
    expect(c.components).toBe(count(/^ {2}\(component /));
    const canons = lines.flatMap((l) => /\(canon ([a-z.-]+)/.exec(l)?.[1] ?? []);
    expect(c.canonDefs.map((d) => d.op).sort()).toEqual(canons.sort());
    expect(canons.length).toBeGreaterThanOrEqual(10);

    // Details, as wasm-tools prints them: the instantiation of the main module with its three import
    // instances, and a lift with its options.
    const main = c.coreInstanceDefs.find((i) => i.args.length === 3)!;
    expect(main.args.map((a) => a.name)).toEqual([...wat.matchAll(/\(with "([^"]+)" \(instance /g)].map((m) => m[1]).slice(0, 3));
    expect(c.canonDefs.find((d) => d.op === 'lift')?.options).toEqual(expect.arrayContaining(['memory 0', 'string-encoding=utf8']));
    expect(c.typeDefs).toEqual(
      expect.arrayContaining(['instance', 'resource', 'record', 'variant', 'flags', 'enum', 'func', 'own', 'borrow', 'result', 'option']),
    );
    expect(c.advancedCanon).toEqual([]);
    expect(rep.nested.map((n) => n.report.kind)).toEqual(['module', 'module', 'module', 'component']);
    expect(rep.threads.uses).toBe(false);
  });
});

describe('components: hand-built entries', () => {
  it('reports shared-everything thread spawning as thread use', async () => {
    // thread.spawn-ref shared, core type 0
    const rep = await parse(buildComponent(fixtureBytes('mem-16mib'), [0x40, 0x01, 0x00]));
    expect(rep.threads).toMatchObject({ uses: true, spawn: ['canon thread.spawn-ref'] });
    expect(rep.component?.canonDefs[1]).toEqual({ op: 'thread.spawn-ref', func: null, type: null, options: ['shared'] });
    expect(rep.component?.advancedCanon).toEqual(['thread.spawn-ref']);
  });

  it('gives malformed entries WASM_MALFORMED with their byte offset', async () => {
    const base = buildComponent(fixtureBytes('mem-16mib'));
    // The canon section's entry (lift) starts after its id, size and count bytes.
    const canonAt = base.indexOf(Buffer.from([0x08, 0x06, 0x01, 0x00, 0x00, 0x00]));
    expect(canonAt).toBeGreaterThan(0);
    const cases: Array<[number, number, RegExp]> = [
      [canonAt + 3, 0x7a, /unknown canonical definition 0x7a/], // canon opcode
      [canonAt + 4, 0x05, /invalid canon function sort/], // lift's func sort byte
    ];
    for (const [at, byte, message] of cases) {
      const bytes = Buffer.from(base);
      bytes[at] = byte;
      const err = await parse(bytes).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FlightDeckError);
      expect((err as FlightDeckError).code).toBe('WASM_MALFORMED');
      expect((err as FlightDeckError).message).toMatch(message);
      expect((err as FlightDeckError).details?.offset).toBe(at);
    }
    // An invalid lift option byte is reported at the option.
    const badOption = Buffer.from(base);
    badOption[canonAt + 6] = 0x01; // one option...
    const withOption = Buffer.concat([badOption.subarray(0, canonAt + 7), Buffer.from([0x09]), badOption.subarray(canonAt + 7)]);
    withOption[canonAt + 1] = 0x07; // section size + 1
    const err = (await parse(withOption).catch((e: unknown) => e)) as FlightDeckError;
    expect(err.message).toMatch(/invalid canon option 0x9/);
    expect(err.details?.offset).toBe(canonAt + 7);
  });
});

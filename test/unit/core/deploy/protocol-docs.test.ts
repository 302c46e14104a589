import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { messageSchemaFiles, renderSpec, SCHEMA_DIR, SPEC } from '../../../../scripts/protocol-docs.js';
import { ROOT } from '../../../support/cli.js';

describe('docs/protocol.md and its message schemas are generated from the code (issue 21)', () => {
  it('docs/schemas/protocol/*.json match the zod schemas (run `npm run docs:protocol`)', () => {
    const files = messageSchemaFiles();
    const dir = path.join(ROOT, SCHEMA_DIR);
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
    for (const [file, text] of Object.entries(files)) expect(readFileSync(path.join(dir, file), 'utf8'), file).toBe(text);
  });

  it('the constants table of docs/protocol.md matches PROTOCOL_CONSTANTS (run `npm run docs:protocol`)', () => {
    const spec = readFileSync(path.join(ROOT, SPEC), 'utf8');
    expect(spec).toBe(renderSpec(spec));
  });

  it('the schemas say units, enums and required fields', () => {
    const info = JSON.parse(messageSchemaFiles()['INFO.json']!) as {
      required: string[];
      properties: Record<string, { description?: string; items?: { enum?: string[] } }>;
    };
    expect(info.required).toEqual(expect.arrayContaining(['version', 'platform', 'memory', 'threads', 'maxFrame', 'compression', 'lineRates', 'lineRate']));
    expect(info.required).not.toContain('serial');
    expect(info.properties.memory?.description).toMatch(/^Bytes/);
    expect(info.properties.maxFrame?.description).toMatch(/wire bytes/);
    expect(info.properties.compression?.items?.enum).toEqual(['none', 'deflate', 'br']);
    const rollback = JSON.parse(messageSchemaFiles()['ROLLBACK.json']!) as { required: string[] };
    expect(rollback.required).toEqual(['sha256']);
  });
});

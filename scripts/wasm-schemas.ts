/**
 * JSON Schemas generated from the zod schemas of core/platforms/schema.ts, so the files users and CI
 * read are the ones the code enforces: assets/platforms/profile.schema.json,
 * docs/schemas/check-report.v1.json and docs/schemas/lab.schema.json (core/lab/schema.ts). `npm run docs:schemas` rewrites them; a unit test fails when stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CHECK_REPORT_SCHEMA_ID, CheckReportSchema, PlatformProfileSchema } from '../core/platforms/schema.js';
import { LAB_SCHEMA_ID, LabFileSchema } from '../core/lab/schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const SCHEMA_FILES: Record<string, () => unknown> = {
  'assets/platforms/profile.schema.json': () => ({
    $id: 'https://flightdeck.dev/schemas/platform-profile.v1.json',
    title: 'Flight Deck platform profile',
    ...z.toJSONSchema(PlatformProfileSchema, { target: 'draft-7', io: 'input' }),
  }),
  'docs/schemas/check-report.v1.json': () => ({
    $id: CHECK_REPORT_SCHEMA_ID,
    title: 'flightdeck check report, version 1',
    ...z.toJSONSchema(CheckReportSchema, { target: 'draft-7' }),
  }),
  'docs/schemas/lab.schema.json': () => ({
    $id: LAB_SCHEMA_ID,
    title: 'Flight Deck lab file (flightdeck.lab.yaml)',
    ...z.toJSONSchema(LabFileSchema, { target: 'draft-7', io: 'input' }),
  }),
};

export function renderSchema(file: string): string {
  return JSON.stringify(SCHEMA_FILES[file]!(), null, 2) + '\n';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of Object.keys(SCHEMA_FILES)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), renderSchema(file));
    console.log(`wrote ${file}`);
  }
}

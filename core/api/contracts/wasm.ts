/**
 * Contract entries of WASM inspection and platform checks. The schemas of their results live in their
 * modules (core/wasm/schema.ts, core/platforms/schema.ts); this file only composes them.
 * Browser-safe: only zod and the modules' schema files.
 */
import { z } from 'zod';
import { progressEvents } from './events.js';
import { InspectResultSchema } from '../../wasm/schema.js';
import { CheckReportSchema, PLATFORM_ID, PlatformEntrySchema } from '../../platforms/schema.js';

const target = z.string().min(1).max(4096).describe('A .wasm file, a directory, a .tar.gz bundle or oci:<dir>[:tag]');

export const wasmContract = {
  'platforms.list': {
    summary: 'Platform profiles: the built-in ones and the user’s (config dir platforms/*.json).',
    input: z.object({}).strict(),
    output: z.object({ platforms: z.array(PlatformEntrySchema) }),
  },
  'wasm.inspect': {
    summary: 'Inspect every WASM module or component in a target: memory, features, threads, sections.',
    input: z
      .object({
        target,
        offline: z.boolean().optional(),
        engineCheck: z
          .boolean()
          .optional()
          .describe(
            'Also validate each core module with the JS engine (WebAssembly.validate), as wasm.check always does. Off by default: the decoder still decodes every instruction and rejects malformed structure; each report then has validation.checked false and a note saying the check was not requested.',
          ),
      })
      .strict(),
    output: InspectResultSchema,
    events: progressEvents('inspect'),
  },
  'wasm.check': {
    summary: 'Check every module in a target against one or more platform profiles.',
    input: z.object({ target, platforms: z.array(z.string().regex(PLATFORM_ID)).min(1).max(32), offline: z.boolean().optional() }).strict(),
    output: CheckReportSchema,
    events: progressEvents('check'),
  },
} as const;

/**
 * The plain progress event of a call that reports how far it got (`{type:'progress', task, done, total?,
 * detail?}`), for the contract entries to declare as their `events`. Browser-safe: zod only.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();

/** Progress of one task: `done` of `total` (when known), `detail` naming the item (e.g. a module path). */
export function progressEvents<T extends string>(task: T) {
  return z.object({ type: z.literal('progress'), task: z.literal(task), done: count, total: count.optional(), detail: z.string().max(4096).optional() });
}

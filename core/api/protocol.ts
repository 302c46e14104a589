/**
 * The call protocol every streaming transport speaks (the web host's WebSocket, Electron's api worker):
 * a caller sends `call` frames with its own ids and may `cancel` them; the host answers with any number
 * of `event` frames (progress of long work) and exactly one `result` frame carrying the contract envelope.
 * Browser-safe: zod only (bundled into the renderer through core/api/client.ts).
 */
import { z } from 'zod';
import { ApiEventSchema, EnvelopeSchema } from './contract.js';

/** WebSocket sub-protocol of the web host. The session token travels as a second sub-protocol entry. */
export const WS_PROTOCOL = 'flightdeck.v1';
export const WS_TOKEN_PREFIX = 'flightdeck.token.';
export const WS_PATH = '/api/ws';
/** Largest frame either side accepts (a check report of a big bundle stays well under this). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export const CallIdSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export { ApiEventSchema, type ApiEvent } from './contract.js';

export const ClientFrameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('call'), id: CallIdSchema, method: z.string().min(1).max(128), input: z.unknown() }).strict(),
  z.object({ t: z.literal('cancel'), id: CallIdSchema }).strict(),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export const HostFrameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('event'), id: CallIdSchema, event: ApiEventSchema }),
  z.object({ t: z.literal('result'), id: CallIdSchema, envelope: EnvelopeSchema }),
  /** Electron only: the api worker stopped, so every call still waiting fails (main sends it to each renderer). */
  z.object({ t: z.literal('worker-exit') }).strict(),
]);
export type HostFrame = z.infer<typeof HostFrameSchema>;
/** The frames of one call (what a call session sends): its events and its result. */
export type CallFrame = Extract<HostFrame, { id: number }>;

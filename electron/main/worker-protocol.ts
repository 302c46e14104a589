import type { ClientFrame, HostFrame } from '../../core/api/protocol.js';

/** Main → api worker: a renderer's frame, or that the renderer is gone. */
export type WorkerRequest = { kind: 'frame'; client: number; frame: ClientFrame } | { kind: 'close'; client: number };
/** Api worker → main: a frame for one renderer. */
export interface WorkerReply {
  client: number;
  frame: HostFrame;
}

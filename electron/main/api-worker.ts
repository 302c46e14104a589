/**
 * The api runs here, in an Electron utility process, so a pull, a check or a flash never blocks the
 * window's main process. Main forwards each renderer's call-protocol frames tagged with the renderer's
 * id; every renderer gets its own call session (ids, events, cancel), closed when the renderer goes away.
 */
import { createHandlers } from '../../core/api/service.js';
import { createCallSession, type CallSession } from '../../core/api/session.js';
import { nativeApiDeps } from '../../composition/deps.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const handlers = createHandlers(nativeApiDeps());
const sessions = new Map<number, CallSession>();
const port = process.parentPort;

port.on('message', (e) => {
  const msg = e.data as WorkerRequest;
  if (!msg || typeof msg.client !== 'number') return;
  if (msg.kind === 'close') {
    sessions.get(msg.client)?.close();
    sessions.delete(msg.client);
    return;
  }
  let session = sessions.get(msg.client);
  if (!session) {
    session = createCallSession(handlers, (frame) => port.postMessage({ client: msg.client, frame } satisfies WorkerReply));
    sessions.set(msg.client, session);
  }
  session.receive(msg.frame);
});

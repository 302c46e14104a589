/**
 * A small RFC 6455 WebSocket server endpoint on top of node:http's `upgrade` event: text messages only,
 * masked client frames, fragmentation, ping/pong and the closing handshake, with a message size cap.
 * The web host needs nothing more, so no dependency is added for it (docs/architecture.md, "Web host").
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WsConnection {
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onMessage(listener: (text: string) => void): void;
  onClose(listener: () => void): void;
}

/** Sec-WebSocket-Accept for a client key (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** Encode one unmasked server frame. */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Finish the handshake on an upgraded socket and return the connection. The caller checked the request. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, protocol: string, maxMessage: number): WsConnection {
  const key = String(req.headers['sec-websocket-key'] ?? '');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n` +
      `Sec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  const messageListeners: Array<(t: string) => void> = [];
  const closeListeners: Array<() => void> = [];
  let buffer: Buffer = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  let fragmentBytes = 0;
  let closing = false;
  let closed = false;

  const finish = () => {
    if (closed) return;
    closed = true;
    socket.destroy();
    for (const l of closeListeners) l();
  };
  const close = (code = 1000, reason = '') => {
    if (closing || closed) return;
    closing = true;
    const body = Buffer.alloc(2 + Buffer.byteLength(reason));
    body.writeUInt16BE(code, 0);
    body.write(reason, 2);
    socket.write(encodeFrame(0x8, body));
    socket.end();
    setTimeout(finish, 1000).unref();
  };

  function parse(): void {
    while (buffer.length >= 2) {
      const b0 = buffer[0]!;
      const b1 = buffer[1]!;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x70) !== 0) return close(1002, 'reserved bits set');
      if ((b1 & 0x80) === 0) return close(1002, 'client frames must be masked');
      let len = b1 & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buffer.length < 4) return;
        len = buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (buffer.length < 10) return;
        const big = buffer.readBigUInt64BE(2);
        if (big > BigInt(maxMessage)) return close(1009, 'message too big');
        len = Number(big);
        offset = 10;
      }
      if (len > maxMessage) return close(1009, 'message too big');
      if (buffer.length < offset + 4 + len) return;
      const mask = buffer.subarray(offset, offset + 4);
      const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      buffer = buffer.subarray(offset + 4 + len);

      if (opcode >= 0x8) {
        if (!fin || len > 125) return close(1002, 'bad control frame');
        if (opcode === 0x8) {
          // Answer the closing handshake with the same code, then drop the connection.
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1000;
          close(code === 1005 || code === 1006 ? 1000 : code);
          return finish();
        }
        if (opcode === 0x9) socket.write(encodeFrame(0xa, payload));
        continue; // pong: nothing to do
      }
      if (opcode === 0x2) return close(1003, 'text frames only');
      if (opcode === 0x1 && fragments.length > 0) return close(1002, 'new message inside a fragmented one');
      if (opcode === 0x0 && fragments.length === 0) return close(1002, 'continuation without a message');
      if (opcode !== 0x0 && opcode !== 0x1) return close(1002, 'unknown opcode');
      fragmentBytes += payload.length;
      if (fragmentBytes > maxMessage) return close(1009, 'message too big');
      fragments.push(payload);
      if (fin) {
        const text = Buffer.concat(fragments).toString('utf8');
        fragments = [];
        fragmentBytes = 0;
        for (const l of messageListeners) l(text);
      }
    }
  }

  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    parse();
  });
  socket.on('close', finish);
  socket.on('error', finish);

  return {
    send(text) {
      if (!closing && !closed) socket.write(encodeFrame(0x1, Buffer.from(text, 'utf8')));
    },
    close,
    onMessage: (l) => void messageListeners.push(l),
    onClose: (l) => void closeListeners.push(l),
  };
}

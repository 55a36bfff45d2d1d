// A WebSocket client written by hand on a TCP socket, for the attacks a conforming client (ws) refuses to
// send: thousands of fragments, empty continuation frames, pings it never reads the answers to, invalid
// UTF-8, an extension offer it would not make. Frames are masked, as a client's must be.
import net from 'node:net';

export interface RawWebSocket {
  socket: net.Socket;
  /** The server's handshake answer (status line and headers). */
  head: string;
  /** Resolves with the close code the server sent, `'destroyed'` when it cut the socket without one. */
  closed: Promise<number | 'destroyed'>;
}

/** Opens the TCP connection and does the upgrade with `extraHeaders` (lines ending in CRLF). */
export async function rawUpgrade(port: number, path = '/upload', extraHeaders = ''): Promise<RawWebSocket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let received = Buffer.alloc(0);
  let headEnd = -1;
  const head = await new Promise<string>((resolve, reject) => {
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (headEnd < 0 && (headEnd = received.indexOf('\r\n\r\n')) >= 0) {
        resolve(received.subarray(0, headEnd).toString('latin1'));
      }
    });
    socket.once('close', () => reject(new Error(`closed during the upgrade: ${received.toString()}`)));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
    );
  });
  const closed = new Promise<number | 'destroyed'>((resolve) => {
    socket.once('close', () => {
      const frames = received.subarray(headEnd + 4);
      resolve(closeCodeIn(frames) ?? 'destroyed');
    });
  });
  return { socket, head, closed };
}

/** The code of the first close frame among server frames (unmasked), if any. */
function closeCodeIn(frames: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= frames.length) {
    const opcode = frames[at]! & 0x0f;
    let length = frames[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) [length, start] = [frames.readUInt16BE(at + 2), at + 4];
    else if (length === 127) [length, start] = [Number(frames.readBigUInt64BE(at + 2)), at + 10];
    if (opcode === 0x8) return length >= 2 ? frames.readUInt16BE(start) : 1005;
    at = start + length;
  }
  return undefined;
}

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** One masked client frame. */
export function clientFrame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const first = (fin ? 0x80 : 0) | opcode;
  let header: Buffer;
  if (payload.length < 126) header = Buffer.from([first, 0x80 | payload.length]);
  else if (payload.length < 65_536) {
    header = Buffer.from([first, 0x80 | 126, 0, 0]);
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/**
 * The server's keep-alive messages (v2 `alive`, docs/protocol.md §3.8): a browser cannot send WebSocket pings,
 * nor see the server's (heartbeat.ts), so without a message of ours it cannot tell a black-holed connection
 * from a quiet one — waiting for a FIN commit, paused, or behind a full credit. Once an upload on a connection
 * agreed `alive`, the connection carries `{"type":"ALIVE","code":200}` every `interval` ms until it closes;
 * the client takes silence for twice that (plus a second) as a dead connection, and resumes.
 */
import type { WebSocket } from 'ws';
import { ALIVE_MESSAGE } from '../protocol/index.ts';

// One keep-alive per connection, whatever number of uploads on it agreed one (connection reuse).
const started = new WeakSet<WebSocket>();

/**
 * Sends the keep-alive message on `socket` every `interval` ms until it closes; a second call for the same
 * socket does nothing.
 *
 * @param socket - an open WebSocket whose upload agreed `alive`
 * @param interval - the granted `alive`, in ms
 */
export function startKeepAlive(socket: WebSocket, interval: number): void {
  if (started.has(socket)) return;
  started.add(socket);
  const timer = setInterval(() => {
    // Sent even while the session paused reading for its disk: the server is alive, only slow, and the
    // client's own answer timeout covers an ack that is late.
    if (socket.readyState === socket.OPEN) socket.send(ALIVE_MESSAGE);
  }, interval);
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}

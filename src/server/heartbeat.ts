/**
 * Detects peers that died silently (no FIN, no RST: a phone leaving Wi-Fi, a NAT dropping its state). Owns
 * the WebSocket ping/pong of one connection: a ping every `interval`; a connection that has not answered the
 * previous one (with a pong or any message) by the next is terminated, so that a dead peer is let go of
 * within two intervals instead of at the idle timeout, and the upload it held can be resumed.
 */
import type { WebSocket } from 'ws';

/**
 * Starts pinging `socket` every `interval` ms until it closes.
 *
 * @param socket - an open WebSocket
 * @param interval - milliseconds between pings
 * @param onDead - called once, just before a silent connection is terminated
 */
export function startHeartbeat(socket: WebSocket, interval: number, onDead: () => void): void {
  let answered = true;
  const alive = () => (answered = true);
  socket.on('pong', alive);
  socket.on('message', alive);
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    // While the session paused reading (its disk is behind), a pong waits unread in the kernel: the
    // silence is ours, not the peer's.
    if (socket.isPaused) return;
    if (!answered) {
      clearInterval(timer);
      onDead();
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
  }, interval);
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}

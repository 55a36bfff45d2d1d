/**
 * The TCP connections of a standalone server, capped as they are accepted — before any HTTP request is
 * read, where the WebSocket limits (limits.ts: upgrades per address, their rate, in all) cannot see them.
 * Without it one address opening thousands of connections that send nothing holds one file descriptor
 * each until its timeout: at the process's descriptor limit every other client's connection and every
 * upload's file open fails (EMFILE). The per-address count uses the TCP peer (no header has been read yet),
 * so trusted proxies, which carry many clients, are left to the global cap and to the limits at the upgrade.
 */
import type { Server } from 'node:net';
import { compileTrust, type TrustProxy } from './client-address.ts';

export interface SocketCaps {
  /** Open TCP connections from one peer address; more are destroyed at once. */
  maxSocketsPerClient: number;
  /** Open TCP connections in all (Node's `server.maxConnections` refuses more). */
  maxSockets: number;
  /** Proxies whose connections are not counted per address. */
  trustProxy?: TrustProxy;
}

/**
 * Caps the TCP connections `server` accepts.
 *
 * @param server - the standalone HTTP server
 * @param caps - the limits
 */
export function capSockets(server: Server, caps: SocketCaps): void {
  server.maxConnections = caps.maxSockets;
  const trusted = caps.trustProxy === undefined ? undefined : compileTrust(caps.trustProxy);
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress;
    // A socket already reset by its peer has no address: nothing to count, it is closing.
    if (address === undefined || trusted?.(address, 0)) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > caps.maxSocketsPerClient) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

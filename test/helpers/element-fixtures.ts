import { waitUntil } from '@open-wc/testing';
import type { WsFileUpload } from '../../src/element/ws-file-upload.ts';
import { QueueServer, type QueueServerOptions } from './queue-server.ts';

const servers: QueueServer[] = [];

/**
 * A multi-client mock server that the element reaches through the page's (mocked) global WebSocket; stopped by
 * {@link stopServers} (call it in `afterEach`).
 *
 * @param options - v1 by default; `v2`, `hold`, `refuseStor` as the QueueServer takes them
 * @returns the server
 */
export function serve(options: QueueServerOptions = {}): QueueServer {
  const server = new QueueServer({ mockGlobal: true, ...options });
  servers.push(server);
  return server;
}

/** Stops every server {@link serve} started. */
export function stopServers(): void {
  for (const server of servers.splice(0)) server.stop();
}

/** The first element of the shadow root with that part, or null. */
export function part(el: HTMLElement, name: string): HTMLElement | null {
  return el.shadowRoot!.querySelector(`[part~="${name}"]`);
}

/** Every element of the shadow root with that part. */
export function parts(el: HTMLElement, name: string): HTMLElement[] {
  return [...el.shadowRoot!.querySelectorAll<HTMLElement>(`[part~="${name}"]`)];
}

/** The text of a node, whitespace collapsed. */
export function text(node: Element | null): string {
  return (node?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** Waits until the rendered file rows show the given statuses (renders are batched per frame). */
export async function untilStatuses(el: WsFileUpload, statuses: string[], timeout = 3000): Promise<void> {
  await waitUntil(
    () => {
      const rendered = parts(el, 'file').map((row) => row.getAttribute('part')!.split(' ')[1]);
      return JSON.stringify(rendered) === JSON.stringify(statuses.map((s) => `file-${s}`));
    },
    `rows to show ${statuses.join(', ')} (items: ${el.items.map((i) => i.status).join(', ')})`,
    { timeout },
  );
}

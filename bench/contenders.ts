// The browser contenders, as data: which server process, which page function (bench/page/bench.html), with
// which options. Protocol v2 rows become one options change here once v2 is on main.
import type { ServerKind } from './server-types.ts';

export type PageFunction = 'rawWebSocket' | 'webSocketStream' | 'core' | 'fetchPost' | 'tus' | 'readOnly';

export interface Contender {
  name: string;
  server: ServerKind;
  page: PageFunction;
  options: Record<string, unknown>;
  /** Send only the first MiB of the file (slow rows); the row says so. */
  shareMiB?: number;
  /** The ratio column divides by this row's MiB/s. */
  isBaseline?: boolean;
  /** Skipped (and said so) when the page lacks it. */
  needsWebSocketStream?: boolean;
  /** Runs with the DevTools Network domain enabled (what puppeteer's Page does): the instrumentation check. */
  withNetworkDomain?: boolean;
}

const MiB = 1024 * 1024;
// Raw rows read the file with file.stream() and a BYOB reader (the cheapest read measured; see the diagnostics).
const raw = { block: 4 * MiB, highWater: 16 * MiB };

export function contenders({ networkCheck }: { networkCheck: boolean }): Contender[] {
  const list: Contender[] = [
    {
      name: 'raw WebSocket, 1 MiB messages → count only',
      server: 'count',
      page: 'rawWebSocket',
      options: { ...raw, message: MiB },
    },
    {
      name: 'raw WebSocket, 4 MiB messages → count only',
      server: 'count',
      page: 'rawWebSocket',
      options: { ...raw, message: 4 * MiB },
    },
    {
      name: 'raw WebSocket, 1 MiB messages → disk (**raw limit**)',
      server: 'disk',
      page: 'rawWebSocket',
      options: { ...raw, message: MiB },
      isBaseline: true,
    },
    {
      name: 'WebSocketStream, 1 MiB messages → disk',
      server: 'disk',
      page: 'webSocketStream',
      options: { block: 4 * MiB, message: MiB, inFlight: 8 },
      needsWebSocketStream: true,
    },
    {
      name: 'ws-file-upload v1: base64, 1 KiB, stop-and-wait (2012 default)',
      server: 'ref',
      page: 'core',
      options: { type: 'base64', chunkSize: 1024 },
      shareMiB: 8,
    },
    {
      name: 'ws-file-upload v1: base64, 48 KiB, stop-and-wait (our v1 default)',
      server: 'ref',
      page: 'core',
      options: { type: 'base64', chunkSize: 48 * 1024 },
      shareMiB: 256,
    },
    {
      name: 'ws-file-upload v2: SHA-256 on (defaults: 256 KiB chunks, window 16)',
      server: 'ref',
      page: 'core',
      options: { type: 'binary', offerV2: true, checksum: true },
    },
    {
      name: 'ws-file-upload v2: SHA-256 off (defaults: 256 KiB chunks, window 16)',
      server: 'ref',
      page: 'core',
      options: { type: 'binary', offerV2: true, checksum: false },
    },
    {
      name: 'ws-file-upload v2: SHA-256 on, 1 MiB chunks, window 16',
      server: 'ref',
      page: 'core',
      options: { type: 'binary', offerV2: true, checksum: true, v2ChunkSize: MiB, window: 16 },
    },
    { name: 'fetch() POST of the File → Node http, disk', server: 'http', page: 'fetchPost', options: {} },
    { name: 'tus-js-client defaults → @tus/server file store', server: 'tus', page: 'tus', options: {} },
    {
      name: 'tus-js-client, 8 MiB chunks → @tus/server file store',
      server: 'tus',
      page: 'tus',
      options: { chunkSize: 8 * MiB },
    },
  ];
  // Diagnostics: where the WebSocket rows spend their time (file reads, or the socket), and the slower ways to
  // read a file the raw rows do not use.
  list.push(
    {
      name: 'diagnostic: read the file only, file.stream() BYOB into 1 MiB buffers, nothing sent',
      server: 'count',
      page: 'readOnly',
      options: { message: MiB },
    },
    {
      name: 'diagnostic: read the file only, 4 MiB arrayBuffer() reads, nothing sent',
      server: 'count',
      page: 'readOnly',
      options: { block: 4 * MiB, message: 4 * MiB, reader: 'arrayBuffer' },
    },
    {
      name: 'diagnostic: raw WebSocket 1 MiB messages cut from 4 MiB arrayBuffer() reads → disk',
      server: 'disk',
      page: 'rawWebSocket',
      options: { ...raw, message: MiB, reader: 'arrayBuffer' },
    },
    {
      name: 'diagnostic: raw WebSocket, send(Blob slice of 1 MiB) → disk',
      server: 'disk',
      page: 'rawWebSocket',
      options: { ...raw, message: MiB, reader: 'blob' },
    },
    {
      name: 'diagnostic: raw WebSocket 1 MiB from one in-memory buffer (no file read) → count only',
      server: 'count',
      page: 'rawWebSocket',
      options: { ...raw, message: MiB, fromMemory: true },
    },
  );
  if (networkCheck) {
    list.push({
      name: 'check: raw WebSocket 1 MiB → count, **Network domain enabled** (as puppeteer Page)',
      server: 'count',
      page: 'rawWebSocket',
      options: { ...raw, message: MiB },
      withNetworkDomain: true,
    });
  }
  return list;
}

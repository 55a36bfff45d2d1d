// The browser contenders, as data: which server process, which page function (bench/page/bench.html), with
// which options, and what each row is to the report (a candidate for the raw limit, checked against it, the
// fetch() baseline, run on emulated links too). The many-small-files rows are in bench/many-files.ts.
import type { ServerKind } from './server-types.ts';

export type PageFunction =
  'rawWebSocket' | 'webSocketStream' | 'core' | 'queue' | 'fetchPost' | 'tus' | 'readOnly';

export interface Contender {
  name: string;
  server: ServerKind;
  page: PageFunction;
  options: Record<string, unknown>;
  /** Send only the first MiB of the file (slow rows); the row says so. */
  shareMiB?: number;
  /**
   * A plain WebSocket sender of the file to disk, read the way our client reads it: the raw limit of a run is
   * the fastest of these rows, and any other WebSocket row more than 5 % above it makes the report say the
   * limit is wrong instead of printing ratios.
   */
  limitCandidate?: boolean;
  /** Sends over a WebSocket to disk: checked against the limit (count-only rows are not). */
  webSocketToDisk?: boolean;
  /** The "× fetch" column divides by this row's MiB/s. */
  isFetch?: boolean;
  /** Also runs on emulated links (`--net`); other rows run on loopback only. */
  onLink?: boolean;
  /** Skipped (and said so) when the page lacks it. */
  needsWebSocketStream?: boolean;
  /** Runs with the DevTools Network domain enabled (what puppeteer's Page does): the instrumentation check. */
  withNetworkDomain?: boolean;
}

const MiB = 1024 * 1024;
const KiB = 1024;
// Raw rows read the file with file.stream() and a BYOB reader, as the core does (the cheapest read measured;
// see the diagnostics), falling back to the default reader where the stream is not a byte stream.
const raw = { block: 4 * MiB, highWater: 16 * MiB };

/**
 * The plain WebSocket senders the raw limit is taken from: message sizes of our chunks and larger, flow
 * control by bufferedAmount, by nothing (the browser queues the whole file, up to a 512 MiB safety stop), or
 * by a window of application-level acks as v2 keeps (the server acks each message once written).
 */
const LIMIT_GRID: { message: number; pacing: 'buffered' | 'none' | 'acks'; window?: number }[] = [
  { message: MiB, pacing: 'buffered' },
  { message: 256 * KiB, pacing: 'buffered' },
  { message: MiB, pacing: 'none' },
  { message: 256 * KiB, pacing: 'none' },
  { message: 256 * KiB, pacing: 'acks', window: 4 * MiB },
  { message: 256 * KiB, pacing: 'acks', window: 16 * MiB },
  { message: MiB, pacing: 'acks', window: 16 * MiB },
];

const size = (bytes: number) => (bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`);
const pacingName = ({ pacing, window }: (typeof LIMIT_GRID)[number]) =>
  pacing === 'buffered'
    ? 'bufferedAmount ≤ 16 MiB'
    : pacing === 'none'
      ? 'no pacing'
      : `ack window ${size(window!)}`;

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
    ...LIMIT_GRID.map((cell): Contender => ({
      name: `raw WebSocket, ${size(cell.message)} messages, ${pacingName(cell)} → disk`,
      server: 'disk',
      page: 'rawWebSocket',
      options: { ...raw, message: cell.message, pacing: cell.pacing, window: cell.window },
      limitCandidate: true,
      webSocketToDisk: true,
      onLink: true,
    })),
    {
      name: 'WebSocketStream, 1 MiB messages → disk',
      server: 'disk',
      page: 'webSocketStream',
      options: { block: 4 * MiB, message: MiB, inFlight: 8 },
      needsWebSocketStream: true,
      limitCandidate: true,
      webSocketToDisk: true,
      onLink: true,
    },
    {
      name: 'ws-file-upload v1: base64, 1 KiB, stop-and-wait (2012 default)',
      server: 'ref',
      page: 'core',
      options: { type: 'base64', chunkSize: 1024 },
      shareMiB: 8,
      webSocketToDisk: true,
    },
    {
      name: 'ws-file-upload v1: base64, 48 KiB, stop-and-wait (our v1 default)',
      server: 'ref',
      page: 'core',
      options: { type: 'base64', chunkSize: 48 * 1024 },
      shareMiB: 256,
      webSocketToDisk: true,
    },
    {
      name: 'ws-file-upload v2 defaults (SHA-256 on)',
      server: 'ref',
      page: 'core',
      options: { type: 'binary', offerV2: true, checksum: true },
      webSocketToDisk: true,
      onLink: true,
    },
    {
      name: 'ws-file-upload v2 defaults, SHA-256 off',
      server: 'ref',
      page: 'core',
      options: { type: 'binary', offerV2: true, checksum: false },
      webSocketToDisk: true,
      onLink: true,
    },
    {
      // A v2 client of before `coalesce` (§3.10): the STOR offer without it, so every chunk is acked.
      name: 'ws-file-upload v2 defaults, SHA-256 on, acks not coalesced',
      server: 'ref',
      page: 'core',
      options: { type: 'binary', offerV2: true, checksum: true, coalesce: false },
      webSocketToDisk: true,
    },
    {
      name: 'ws-file-upload v2: SHA-256 on, 256 KiB chunks, acks not coalesced (the defaults before 2026-12-03)',
      server: 'ref',
      page: 'core',
      options: { type: 'binary', offerV2: true, checksum: true, v2ChunkSize: 256 * 1024, coalesce: false },
      webSocketToDisk: true,
    },
    // Cold and warm for both: our rows above open a fresh socket when the clock starts, the fetch() row reuses
    // the page's warm keep-alive connection (the page came from that server). These rows show each the other way.
    {
      name: 'ws-file-upload v2 defaults through UploadQueue (as the element), fresh socket',
      server: 'ref',
      page: 'queue',
      options: { checksum: true },
      webSocketToDisk: true,
      onLink: true,
    },
    {
      name: 'ws-file-upload v2 defaults through UploadQueue, preconnected (socket opened while picking)',
      server: 'ref',
      page: 'queue',
      options: { checksum: true, preconnect: true },
      webSocketToDisk: true,
      onLink: true,
    },
    {
      name: 'ws-file-upload v2 defaults through UploadQueue, preconnected, early grant remembered from an earlier upload',
      server: 'ref',
      page: 'queue',
      options: { checksum: true, preconnect: true, remember: true },
      webSocketToDisk: true,
      onLink: true,
    },
    {
      name: 'fetch() POST of the File → Node http, disk',
      server: 'http',
      page: 'fetchPost',
      options: {},
      isFetch: true,
      onLink: true,
    },
    {
      name: 'fetch() POST of the File → Node http, disk, fresh connection (no credentials: its own socket pool)',
      server: 'http',
      page: 'fetchPost',
      options: { fresh: true },
      onLink: true,
    },
    {
      name: 'tus-js-client defaults → @tus/server file store',
      server: 'tus',
      page: 'tus',
      options: {},
      onLink: true,
    },
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
      webSocketToDisk: true,
    },
    {
      name: 'diagnostic: raw WebSocket, send(Blob slice of 1 MiB) → disk',
      server: 'disk',
      page: 'rawWebSocket',
      options: { ...raw, message: MiB, reader: 'blob' },
      webSocketToDisk: true,
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

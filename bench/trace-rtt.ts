// Diagnostic: where the round trips of one upload go, through the link emulator. The real client core runs
// in Node (ws stands in for the browser's WebSocket, as in the tests) against the reference server (dist/,
// its own process) and prints a timeline: socket opened, STOR sent and answered, the first and last chunk,
// the bytes in flight and the client's allowance as acks come back, FIN sent and answered. Then fetch()
// (Node's undici) POSTs the same bytes to the bench's plain HTTP server through the same link, once on a cold
// connection and once on a warm keep-alive one (a page's own origin is warm: the bench's browser rows are).
// Timings are a diagnostic, not a figure of the report: compare round trips, not MiB/s.
// With --pause-at N the upload is cancelled once N MiB are acknowledged, and the timeline shows how long the
// socket took to close: the close frame waits behind every byte already queued (the browser's buffer, the
// kernel's, the link's), which is what a cancel (ABOR, then close) or a pause waits for on the server.
// With --remember a 1 KiB upload goes first (untraced), so that the page's memory holds the server's early
// grant (src/core/early-memory.ts) and the traced upload's fresh socket sends early data behind its STOR.
// Usage: npm run build && node --import tsx bench/trace-rtt.ts [--net rtt100] [--mib 64] [--pause-at MiB]
//        [--remember]
import { parseArgs } from 'node:util';
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { WebSocketFileTransfer, type WebSocketConstructor } from '../src/core/index.ts';
import { startServerOnNet } from './child.ts';
import { NET_PRESETS } from './nets.ts';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: 'rtt100' },
    mib: { type: 'string', default: '64' },
    'pause-at': { type: 'string' },
    remember: { type: 'boolean', default: false },
  },
});
const net = NET_PRESETS[values.net]?.();
if (!net?.link) throw new RangeError(`--net ${values.net}: an emulated preset (rtt20, rtt100, rtt200, home)`);
const size = Number(values.mib) * 1024 * 1024;
const bytes = randomFillSync(Buffer.alloc(size));
const MiB = 1024 * 1024;

let zero = 0;
let socketClosed: (() => void) | undefined;
const lines: string[] = [];
const mark = (what: string) => lines.push(`${(performance.now() - zero).toFixed(1).padStart(8)} ms  ${what}`);

/** A ws WebSocket that notes when it opens and what goes out and comes in. */
class TracedWebSocket extends WebSocket {
  #dataFrames = 0;
  #acks = 0;
  constructor(url: string) {
    super(url);
    mark('new WebSocket (TCP connect, then HTTP upgrade)');
    this.on('open', () => mark('socket open'));
    this.on('close', () => {
      mark('socket closed');
      socketClosed?.();
    });
    this.on('message', (data: Buffer, isBinary: boolean) => {
      const text = isBinary ? '(binary)' : data.toString();
      if (text.startsWith('{"type":"DATA"')) {
        this.#acks += 1;
        const credit = /"credit":(\d+)/.exec(text)?.[1];
        if (this.#acks === 1 || credit) mark(`ack #${this.#acks}${credit ? ` credit ${credit}` : ''}`);
      } else mark(`answer ${text.slice(0, 60)}`);
    });
  }
  override send(data: unknown, ...rest: unknown[]): void {
    if (typeof data === 'string') mark(`send ${data.slice(0, 40)}`);
    else if (++this.#dataFrames === 1) mark('first data frame sent');
    (super.send as (...args: unknown[]) => void)(data, ...rest);
  }
}

const ws = await startServerOnNet('ref', net.link, 300_000);
try {
  if (values.remember) {
    await new Promise<void>((resolve, reject) => {
      const earlier = new WebSocketFileTransfer({
        url: ws.endpoint,
        file: new Blob([new Uint8Array(1024)]),
        type: 'binary',
        resumeStore: null,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
      });
      earlier.addEventListener('success', () => resolve());
      earlier.addEventListener('error', (event) => reject(event.detail.error));
      earlier.start();
    });
  }
  zero = performance.now();
  const transfer = new WebSocketFileTransfer({
    url: ws.endpoint,
    file: new Blob([bytes]),
    type: 'binary',
    offerV2: true,
    resumeStore: null,
    WebSocket: TracedWebSocket as unknown as WebSocketConstructor,
  });
  let shownInFlight = 0;
  const pauseAt = values['pause-at'] === undefined ? Infinity : Number(values['pause-at']) * MiB;
  const paused = new Promise<void>((resolve) => transfer.addEventListener('abort', () => resolve()));
  transfer.addEventListener('progress', ({ detail }) => {
    if (detail.loaded >= pauseAt && transfer.state === 'sending') {
      const inFlight = ((detail.sent - detail.loaded) / MiB).toFixed(1);
      mark(`cancel() at ${(detail.loaded / MiB).toFixed(1)} MiB acked, ${inFlight} MiB in flight`);
      transfer.cancel();
    }
    const inFlight = detail.sent - detail.loaded;
    if (inFlight > shownInFlight * 1.25 || inFlight < shownInFlight / 1.25) {
      shownInFlight = inFlight;
      const [acked, flying] = [detail.loaded / MiB, inFlight / MiB];
      mark(`progress: ${acked.toFixed(1)} MiB acked, ${flying.toFixed(1)} MiB in flight`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    transfer.addEventListener('success', () => resolve());
    transfer.addEventListener('error', (event) => reject(event.detail.error));
    // Bounded: the socket's close, or 30 s.
    void paused.then(() => {
      socketClosed = resolve;
      setTimeout(resolve, 30_000);
    });
    transfer.start();
  });
  if (transfer.state === 'complete') mark('success');
} finally {
  await ws.stop();
}
console.log(`# ${net.description}, ${values.mib} MiB\n\n## ws-file-upload v2 defaults (Node client)\n`);
console.log(lines.splice(0).join('\n'));

const http = await startServerOnNet('http', net.link, 300_000);
try {
  for (const warm of [false, true]) {
    if (warm) await (await fetch(`${http.origin}/bench/bench.html`)).text();
    zero = performance.now();
    mark(`fetch() POST, ${warm ? 'warm keep-alive connection' : 'cold connection'}`);
    const response = await fetch(`${http.endpoint}?name=${warm ? 'warm' : 'cold'}`, {
      method: 'POST',
      body: bytes,
    });
    mark(`response ${response.status}: ${await response.text()}`);
  }
} finally {
  await http.stop();
}
console.log('\n## fetch() POST (Node undici)\n');
console.log(lines.join('\n'));
process.exit(0);

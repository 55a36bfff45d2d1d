// A password guesser in a process of its own, so that its client work does not run on the event loop of
// the upload being measured: wrong passwords for one login from one address, each on a new connection, at a
// fixed rate while attacking. Its stdin steers it, a line at a time: `attack` starts or resumes, `pause`
// stops sending (the process stays, idle, so that starting it costs no round); the end of stdin, or a bound
// of `seconds` in all, ends it. It then prints one JSON line: how many attempts got which code, and the
// retryAfter of every 429 in the order they came.
// Usage: node --import tsx test/helpers/auth-attacker.ts <url> <login> <per-second> <seconds> <address>
// Prints "attacking" each time an `attack` had its first answer back.
import WebSocket from 'ws';

const [url, login, rate, seconds, localAddress] = process.argv.slice(2);
const interval = 1000 / Number(rate);
const deadline = Date.now() + Number(seconds) * 1000;
const codes: Record<string, number> = {};
const retryAfters: number[] = [];
let stopping = false;

/** One guess: the upgrade's HTTP refusal, or the AUTH answer. */
function guess(index: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url!, { localAddress });
    let finished = false;
    const done = (code: number | string, retryAfter?: number) => {
      if (finished) return;
      finished = true;
      codes[code] = (codes[code] ?? 0) + 1;
      if (code === 429 && retryAfter !== undefined) retryAfters.push(retryAfter);
      socket.terminate();
      resolve();
    };
    socket.once('unexpected-response', (_request, response) => {
      const after = Number(response.headers['retry-after']);
      done(response.statusCode ?? 0, after > 0 ? after * 1000 : undefined);
    });
    socket.once('open', () => socket.send(`AUTH: ${JSON.stringify({ login, password: `guess-${index}` })}`));
    socket.once('message', (data) => {
      const answer = JSON.parse(data.toString()) as { code: number; retryAfter?: number };
      done(answer.code, answer.retryAfter);
    });
    socket.once('error', () => done('error'));
    // A guess that gets no answer within 10 s counts as such; the attacker never waits without bound.
    setTimeout(() => done('timeout'), 10_000).unref();
  });
}

let attacking = false;
let announce = false;
let wake: () => void = () => undefined;
let buffered = '';
process.stdin.on('data', (chunk: Buffer) => {
  buffered += chunk.toString();
  for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    if (line === 'attack') [attacking, announce] = [true, true];
    if (line === 'pause') attacking = false;
    wake();
  }
});
process.stdin.on('end', () => {
  stopping = true;
  wake();
});
const pending: Promise<void>[] = [];
let index = 0;
while (!stopping && Date.now() < deadline) {
  if (!attacking) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 1000).unref();
    });
    continue;
  }
  // Paced against the start of this stretch, so that the rate holds however long each send took.
  const started = performance.now();
  for (let i = 0; attacking && !stopping && Date.now() < deadline; i++) {
    const guessed = guess(index++);
    if (announce) {
      announce = false;
      void guessed.then(() => process.stdout.write('attacking\n'));
    }
    pending.push(guessed);
    const next = started + (i + 1) * interval;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
}
await Promise.all(pending);
process.stdout.write(`${JSON.stringify({ codes, retryAfters })}\n`);
process.exit(0);

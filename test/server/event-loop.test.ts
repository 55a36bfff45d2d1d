// No single message may freeze the server: names at the largest size the server accepts are answered while
// its event loop stays responsive. The measure is the server's own event-loop stall (the server runs in this
// process), which is what every other connection waits for, counted in the CPU time the loop's thread spent
// inside the stall (test/helpers/loop-stall.ts) so that a loaded machine does not count as the server's cost.
// Before the fix a 60 KB name of spaces blocked the loop for 14 s (a backtracking trim) and 20,000 many-byte
// characters for 3 s (a quadratic truncation).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stallMeter } from '../helpers/loop-stall.ts';
import { Peer, startServer } from './peer.ts';

/** The budget the hardening issue sets for what one message may cost every other connection. */
const MAX_LAG_MS = 50;
/** A slow machine may stall once for reasons of its own; a real quadratic cost stalls every attempt. */
const ATTEMPTS = 3;
/** JSON characters left for the name inside the default 64 Ki-character command limit (escapes count). */
const NAME_CHARS = 60_000;

const HOSTILE_NAMES: Record<string, string> = {
  'a run of spaces between letters': 'a' + ' '.repeat(NAME_CHARS) + 'a',
  'dots and spaces': 'a' + '. '.repeat(NAME_CHARS / 2) + 'a',
  'trailing spaces after an extension': 'a.txt' + ' '.repeat(NAME_CHARS),
  'many-byte UTF-8': '€'.repeat(NAME_CHARS / 3),
  'astral characters': '😀'.repeat(NAME_CHARS / 4) + '.txt',
  'combining marks': 'e' + '\u0301'.repeat(NAME_CHARS / 2),
  separators: '/\\'.repeat(NAME_CHARS / 3),
  'bidi and controls': '\u202e\u0001'.repeat(NAME_CHARS / 7) + 'x',
  'lone surrogates': '\ud800a'.repeat(NAME_CHARS / 7),
};

describe('one message cannot freeze the server', () => {
  let ctx: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    ctx = await startServer();
  });
  after(() => ctx.stop());

  for (const [what, filename] of Object.entries(HOSTILE_NAMES)) {
    it(`answers STOR with ${what} (${filename.length} chars) within ${MAX_LAG_MS} ms of loop delay`, async () => {
      const stalls: string[] = [];
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const peer = await Peer.connect(ctx.url);
        const meter = stallMeter();
        const answer = await peer.ask(`STOR: ${JSON.stringify({ filename, size: 1, type: 'binary' })}`);
        const stall = await meter.stop();
        peer.close();
        assert.equal(answer.type, 'STOR');
        assert.equal(answer.code, 200, `the name is sanitised, not refused: ${JSON.stringify(answer)}`);
        stalls.push(`${stall.busyMs.toFixed(0)} ms busy (${stall.wallMs.toFixed(0)} ms wall)`);
        if (stall.busyMs <= MAX_LAG_MS) return;
      }
      assert.fail(`the event loop stalled ${stalls.join(', ')} in every attempt`);
    });
  }
});

// Authentication under attack (issue 15): wrong passwords at 200 per second from one address while an
// upload runs. The attacker is answered 429 with retryAfter after a few tries, the upload keeps making
// progress and is stored intact, the password hashing queue refuses rather than piles up, and the right
// password works again once the delay is over. Assertions are on answers and progress, never on timing.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BoundedQueue, hashPassword, passwordFileAccess } from '../../src/server/access.ts';
import { AuthThrottle } from '../../src/server/auth-throttle.ts';
import { RefusalError } from '../../src/server/refusal.ts';
import { bytes, eventually, Peer, readStored, sha256, startServer } from './peer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One AUTH attempt on a fresh connection from `localAddress`; the answer's code and retryAfter. */
async function attempt(url: string, login: string, password: string, localAddress = '127.0.0.1') {
  const socket = new WebSocket(url, { localAddress });
  try {
    // A blocked address is refused at the upgrade already: HTTP 429 with Retry-After (seconds).
    const refused = await new Promise<{ code: number; retryAfter?: number } | undefined>(
      (resolve, reject) => {
        socket.once('open', () => resolve(undefined));
        socket.once('unexpected-response', (_request, response) => {
          const seconds = Number(response.headers['retry-after']);
          resolve({ code: response.statusCode ?? 0, ...(seconds > 0 ? { retryAfter: seconds * 1000 } : {}) });
        });
        socket.once('error', reject);
      },
    );
    if (refused) return refused;
    const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
      socket.once('message', (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
      socket.once('close', () => reject(new Error('closed without an answer')));
      socket.send(`AUTH: ${JSON.stringify({ login, password })}`);
    });
    return { code: answer.code as number, retryAfter: answer.retryAfter as number | undefined };
  } finally {
    socket.terminate();
  }
}

/** The HTTP status and Retry-After of a refused upgrade (or 101). */
async function upgradeStatus(url: string, headers: Record<string, string>) {
  const socket = new WebSocket(url, { headers });
  try {
    return await new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
      socket.once('open', () => resolve({ status: 101 }));
      socket.once('unexpected-response', (_request, response) =>
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] }),
      );
      socket.once('error', reject);
    });
  } finally {
    socket.terminate();
  }
}

async function passwordServer(extra: Record<string, unknown> = {}) {
  const file = `${await hashPassword('alice', 'right')}\n${await hashPassword('bob', 'bobs')}\n`;
  const env = await startServer({
    ...passwordFileAccess(file),
    maxAuthFailures: 3,
    authBackoff: 200,
    maxAuthBackoff: 1500,
    maxConnectionsPerClient: 1000,
    maxConnectionRatePerClient: 1e6,
    connectionBurstPerClient: 1e6,
    ...extra,
  });
  cleanups.push(() => env.stop());
  return env;
}

describe('authentication under attack', () => {
  it('200 wrong passwords a second: the attacker gets 429s, the upload goes on, the right password works after', async () => {
    const env = await passwordServer();
    // The upload, authenticated, from the same address as the attacker.
    const uploader = await Peer.connect(env.url);
    cleanups.push(() => uploader.socket.terminate());
    assert.equal((await uploader.ask('AUTH: {"login":"bob","password":"bobs"}')).code, 200);
    const data = bytes(1024 * 1024, 4);
    const chunk = 8 * 1024;
    const stor = { filename: 'during.bin', size: data.length, type: 'binary' };
    assert.equal((await uploader.ask(`STOR: ${JSON.stringify(stor)}`)).code, 200);
    let sent = 0;
    let attacking = true;
    const acksDuringAttack: number[] = [];
    const upload = (async () => {
      for (; sent < data.length; sent += chunk) {
        assert.equal((await uploader.ask(data.subarray(sent, sent + chunk))).code, 200);
        if (attacking) acksDuringAttack.push(sent);
      }
    })();

    const codes = new Map<number, number>();
    let lastRetryAfter = 0;
    const attempts: Promise<void>[] = [];
    // 200 a second for 2 seconds: one attempt every 5 ms, each on its own connection.
    for (let i = 0; i < 400; i++) {
      attempts.push(
        attempt(env.url, 'alice', `guess-${i}`).then(
          ({ code, retryAfter }) => {
            codes.set(code, (codes.get(code) ?? 0) + 1);
            if (code === 429) {
              assert.ok(typeof retryAfter === 'number' && retryAfter > 0, 'a 429 says when to come back');
              lastRetryAfter = Math.max(lastRetryAfter, retryAfter);
            }
          },
          () => undefined,
        ),
      );
      await sleep(5);
    }
    await Promise.all(attempts);
    attacking = false;
    const checked = (codes.get(401) ?? 0) + (codes.get(503) ?? 0);
    assert.ok(
      (codes.get(429) ?? 0) > 300,
      `most guesses were refused unchecked: ${JSON.stringify([...codes])}`,
    );
    assert.ok(checked < 40, `few guesses reached the password check: ${JSON.stringify([...codes])}`);
    assert.ok(!codes.has(200), 'no wrong password got in');
    assert.ok(acksDuringAttack.length > 0, 'the upload made progress during the attack');

    await upload;
    assert.equal(sha256(await readStored(env.dir, 'during.bin')), sha256(data));

    // Blocked for the login too: even the right password waits out the delay, then works.
    await sleep(lastRetryAfter + 50);
    let ok: Awaited<ReturnType<typeof attempt>> | undefined;
    for (let i = 0; i < 20 && ok?.code !== 200; i++) {
      ok = await attempt(env.url, 'alice', 'right');
      if (ok.code === 429) await sleep((ok.retryAfter ?? 100) + 20);
    }
    assert.equal(ok?.code, 200);
  });

  it('an unknown and a known login get the same answers, in the same order', async () => {
    const env = await passwordServer();
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) known.push((await attempt(env.url, 'alice', 'nope', '127.0.0.2')).code);
    for (let i = 0; i < 5; i++) unknown.push((await attempt(env.url, 'nobody', 'nope', '127.0.0.3')).code);
    // Three free failures, a fourth that starts the delay, then refused unchecked.
    assert.deepEqual(known, [401, 401, 401, 401, 429]);
    assert.deepEqual(unknown, known);
  });

  it('throttles per login across addresses, and per address across logins', async () => {
    // Delays far longer than the test: a loaded machine's slow scrypt must not let a block run out.
    const env = await passwordServer({ authBackoff: 60_000, maxAuthBackoff: 60_000 });
    for (let i = 0; i < 4; i++) assert.equal((await attempt(env.url, 'alice', 'x', '127.0.0.2')).code, 401);
    // Another address, the same login: blocked.
    assert.equal((await attempt(env.url, 'alice', 'x', '127.0.0.3')).code, 429);
    // Another address, another login: let through.
    assert.equal((await attempt(env.url, 'bob', 'bobs', '127.0.0.3')).code, 200);
    // The first address, any login: blocked.
    assert.equal((await attempt(env.url, 'bob', 'bobs', '127.0.0.2')).code, 429);
  });

  it('failed HTTP Basic at the upgrade is throttled too: 401, then 429 with Retry-After', async () => {
    const env = await passwordServer();
    const basic = (password: string) => ({
      Authorization: 'Basic ' + Buffer.from(`alice:${password}`).toString('base64'),
    });
    for (let i = 0; i < 4; i++) await assert.rejects(Peer.connect(env.url, basic('x')), /401/);
    const refused = await upgradeStatus(env.url, basic('right'));
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.retryAfter) >= 1, `Retry-After: ${refused.retryAfter}`);
    await eventually(
      async () =>
        await Peer.connect(env.url, basic('right')).then(
          (p) => (p.close(), true),
          () => false,
        ),
      'the right password to work after the delay',
      5000,
    );
  });
});

describe('password hashing is bounded', () => {
  it('runs one scrypt at a time and refuses checks past the queue with 503 and retryAfter', async () => {
    const access = passwordFileAccess(`${await hashPassword('alice', 'right')}\n`, {
      maxConcurrentHashes: 1,
      maxQueuedHashes: 2,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => access.authenticate({ login: 'alice', password: 'x' }, {} as never)),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3, 'one running, two queued');
    assert.equal(refused.length, 5);
    for (const r of refused) {
      const error = (r as PromiseRejectedResult).reason as RefusalError;
      assert.ok(error instanceof RefusalError);
      assert.equal(error.refusal.code, 503);
      assert.ok((error.refusal.retryAfter ?? 0) > 0);
    }
    // Once the queue drained, checks are taken again.
    assert.deepEqual(await access.authenticate({ login: 'alice', password: 'right' }, {} as never), {
      user: 'alice',
    });
  });

  it('a bounded queue never runs more than its concurrency', async () => {
    const queue = new BoundedQueue(2, 100);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        queue.run(async () => {
          running++;
          most = Math.max(most, running);
          await sleep(2);
          running--;
        }),
      ),
    );
    assert.equal(most, 2);
    assert.equal(queue.running, 0);
  });

  it('the throttle doubles its delay per failure up to the bound, and forgives a login that got in', () => {
    const throttle = new AuthThrottle({ maxAuthFailures: 2, authBackoff: 100, maxAuthBackoff: 350 });
    const t0 = 1_000_000;
    const fail = (at: number) => throttle.record('a', 'u', false, at);
    fail(t0);
    fail(t0);
    assert.equal(throttle.blocked('a', 'u', t0), undefined, 'within the allowance');
    const delays = [];
    for (const at of [t0, t0 + 100, t0 + 300, t0 + 700]) {
      fail(at);
      delays.push(throttle.blocked('a', 'u', at)?.retryAfter);
    }
    assert.deepEqual(delays, [100, 200, 350, 350]);
    throttle.record('c', 'u', true, t0 + 700);
    assert.equal(throttle.blocked('c', 'u', t0 + 700), undefined, 'the login is forgiven');
    assert.equal(throttle.blocked('a', undefined, t0 + 700)?.code, 429, 'the address is not');
  });

  it('lets no more attempts at once than the allowance has left', () => {
    const throttle = new AuthThrottle({ maxAuthFailures: 3, authBackoff: 100, maxAuthBackoff: 1000 });
    const t0 = 2_000_000;
    const attempts = Array.from({ length: 5 }, () => throttle.begin('a', 'u', t0));
    assert.deepEqual(
      attempts.map((a) => ('done' in a ? 'checked' : a.code)),
      ['checked', 'checked', 'checked', 429, 429],
    );
    for (const a of attempts) if ('done' in a) a.done(false, t0);
    assert.equal(throttle.blocked('a', 'u', t0), undefined, 'the allowance is used up, not exceeded');
    const next = [throttle.begin('a', 'u', t0), throttle.begin('a', 'u', t0)];
    assert.deepEqual(
      next.map((a) => ('done' in a ? 'checked' : a.code)),
      ['checked', 429],
      'one at a time past it',
    );
    if ('done' in next[0]!) next[0].done(false, t0);
    assert.equal(throttle.blocked('a', 'u', t0)?.retryAfter, 100);
  });
});

// Behind a proxy (issue 15): the client address comes from X-Forwarded-For / Forwarded only when the hop it
// came from is trusted (--trust-proxy), never by default; per-address connection rate limits. The end-to-end
// case runs a real nginx from Debian (/usr/sbin/nginx; .ci/run installs it), started by the test with its
// own configuration on a port picked at run time and stopped by its PID. Two clients behind it, on
// 127.0.0.2 and 127.0.0.3, get their own limits; without trust they share the proxy's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { createUploadServer } from '../../src/server/index.ts';
import { clientAddress } from '../../src/server/client-address.ts';
import { ConnectionRate } from '../../src/server/limits.ts';
import { Nginx } from '../helpers/nginx.ts';
import { bytes, eventually, Peer, readStored, sha256, startServer, uploadV1 } from './peer.ts';

/** A request as clientAddress sees it. */
function request(peer: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

describe('client address', () => {
  it('is the TCP peer by default, whatever the headers say', () => {
    const spoofed = request('203.0.113.9', { 'x-forwarded-for': '1.2.3.4', forwarded: 'for=1.2.3.4' });
    assert.equal(clientAddress(spoofed, undefined), '203.0.113.9');
    assert.equal(clientAddress(spoofed, 0), '203.0.113.9');
    assert.equal(clientAddress(spoofed, []), '203.0.113.9');
  });

  it('walks X-Forwarded-For from the right, through trusted hops only', () => {
    const chain = request('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.0.0.1' });
    assert.equal(clientAddress(chain, 1), '10.0.0.1');
    assert.equal(clientAddress(chain, 2), '198.51.100.7');
    assert.equal(
      clientAddress(chain, ['10.0.0.0/8']),
      '198.51.100.7',
      'the spoofed 6.6.6.6 is never reached',
    );
    assert.equal(clientAddress(chain, ['private']), '198.51.100.7');
    assert.equal(clientAddress(chain, ['192.168.0.0/16']), '10.0.0.2', 'an untrusted peer is the client');
    assert.equal(clientAddress(chain, 9), '6.6.6.6', 'more hops than entries: the leftmost');
  });

  it('reads RFC 7239 Forwarded only when told to, with ports, quotes and IPv6', () => {
    const forwarded = request('::ffff:127.0.0.1', {
      forwarded: 'for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"',
      'x-forwarded-for': '9.9.9.9',
    });
    assert.equal(clientAddress(forwarded, ['loopback'], 'forwarded'), '2001:db8:cafe::17');
    assert.equal(clientAddress(forwarded, ['loopback', '2001:db8::/32'], 'forwarded'), '192.0.2.60');
    assert.equal(clientAddress(forwarded, ['loopback']), '9.9.9.9', 'X-Forwarded-For by default');
    const hidden = request('127.0.0.1', { forwarded: 'for=_hidden' });
    assert.equal(clientAddress(hidden, ['loopback'], 'forwarded'), '127.0.0.1', 'no address: the proxy');
    const port = request('127.0.0.1', { forwarded: 'for="192.0.2.1:8080"' });
    assert.equal(clientAddress(port, ['loopback'], 'forwarded'), '192.0.2.1');
  });

  it('does not take junk or a huge entry for an address', () => {
    const junk = request('127.0.0.1', { 'x-forwarded-for': `${'x'.repeat(8000)}, not-an-ip` });
    assert.equal(clientAddress(junk, ['loopback']), '127.0.0.1');
  });

  it('refuses a trustProxy entry that is not an address, range or range name', async () => {
    for (const trustProxy of [['10.0.0.0/33'], ['example.com'], ['1.2.3.4/8/1'], -1, 1.5]) {
      await assert.rejects(
        createUploadServer({ dir: '/tmp', port: 0, trustProxy } as never),
        /"trustProxy"/,
        JSON.stringify(trustProxy),
      );
    }
    await assert.rejects(
      createUploadServer({ dir: '/tmp', port: 0, forwardedHeader: 'x-real-ip' } as never),
      /"forwardedHeader"/,
    );
  });
});

describe('connection rate per address', () => {
  it('lets a burst through, then one per 1/rate seconds', () => {
    const rate = new ConnectionRate(2, 3);
    const t0 = 5_000_000;
    assert.deepEqual(
      [0, 0, 0, 0].map(() => rate.take('a', t0)),
      [undefined, undefined, undefined, 500],
    );
    assert.equal(rate.take('b', t0), undefined, 'another address has its own bucket');
    assert.equal(rate.take('a', t0 + 500), undefined);
    assert.equal(rate.take('a', t0 + 500), 500);
  });

  it('refuses a flood of connections from one address with HTTP 429 and Retry-After', async () => {
    const env = await startServer({ maxConnectionRatePerClient: 0.01, connectionBurstPerClient: 3 });
    try {
      const peers = [];
      for (let i = 0; i < 3; i++) peers.push(await Peer.connect(env.url));
      const status = await new Promise<{ code?: number; retryAfter?: string }>((resolve, reject) => {
        const socket = new WebSocket(env.url);
        socket.once('unexpected-response', (_request, response) => {
          resolve({ code: response.statusCode, retryAfter: response.headers['retry-after'] });
          socket.terminate();
        });
        socket.once('open', () => resolve({}));
        socket.once('error', reject);
      });
      assert.equal(status.code, 429);
      assert.ok(Number(status.retryAfter) >= 1);
      // A closed connection does not give its token back: the rate is about new connections.
      peers[0]!.close();
      await eventually(() => env.server.connections === 2, 'the close');
      await assert.rejects(Peer.connect(env.url), /429/);
      for (const peer of peers) peer.close();
    } finally {
      await env.stop();
    }
  });
});

/** Connects from `localAddress` (a loopback address of its own), with optional extra headers. */
async function connectFrom(url: string, localAddress: string, headers?: Record<string, string>) {
  const socket = new WebSocket(url, { localAddress, headers });
  return new Promise<{ socket: WebSocket; status: number }>((resolve, reject) => {
    socket.once('open', () => resolve({ socket, status: 101 }));
    socket.once('unexpected-response', (_request, response) => {
      resolve({ socket, status: response.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

describe('through a real nginx', () => {
  let nginx: Nginx;
  let trusted: Awaited<ReturnType<typeof startServer>>;
  let plain: Awaited<ReturnType<typeof startServer>>;
  const opened: WebSocket[] = [];
  before(async () => {
    const limits = { maxConnectionsPerClient: 1 };
    trusted = await startServer({ ...limits, path: '/trusted/upload', trustProxy: ['127.0.0.1'] });
    plain = await startServer({ ...limits, path: '/plain/upload' });
    nginx = await Nginx.start([
      { path: '/trusted/', upstreams: [trusted.server.port] },
      { path: '/plain/', upstreams: [plain.server.port] },
    ]);
  });
  after(async () => {
    for (const socket of opened) socket.terminate();
    await nginx?.stop();
    await trusted?.stop();
    await plain?.stop();
  });

  it('two clients behind it get their own limits when nginx is trusted; a forged header changes nothing', async () => {
    const a = await connectFrom(nginx.urlFor('/trusted/upload'), '127.0.0.2');
    const b = await connectFrom(nginx.urlFor('/trusted/upload'), '127.0.0.3');
    opened.push(a.socket, b.socket);
    assert.equal(a.status, 101, 'the first client is let in');
    assert.equal(b.status, 101, 'so is the second: it has its own limit');
    // The first client again, now claiming another address: nginx appends the real one, which is used.
    const again = await connectFrom(nginx.urlFor('/trusted/upload'), '127.0.0.2', {
      'X-Forwarded-For': '10.9.9.9',
    });
    opened.push(again.socket);
    assert.equal(again.status, 429, 'its own limit, whatever it claims');
    assert.equal(trusted.server.connections, 2);
  });

  it('without trust every client behind nginx is nginx: they share one limit', async () => {
    const a = await connectFrom(nginx.urlFor('/plain/upload'), '127.0.0.2');
    const b = await connectFrom(nginx.urlFor('/plain/upload'), '127.0.0.3');
    opened.push(a.socket, b.socket);
    assert.equal(a.status, 101);
    assert.equal(b.status, 429, 'the second client counts against the proxy address');
  });

  it('an upload through nginx is stored byte for byte', async () => {
    for (const socket of opened.splice(0)) socket.terminate();
    await eventually(() => trusted.server.connections === 0, 'the earlier connections to close');
    const peer = await Peer.connect(nginx.urlFor('/trusted/upload'));
    const data = bytes(300_000, 8);
    const answers = await uploadV1(peer, 'proxied.bin', data, 'binary', 64 * 1024);
    assert.ok(answers.every((answer) => answer.code === 200));
    peer.close();
    assert.equal(sha256(await readStored(trusted.dir, 'proxied.bin')), sha256(data));
  });
});

describe('through a real nginx that sets RFC 7239 Forwarded', () => {
  let nginx: Nginx;
  let concurrent: Awaited<ReturnType<typeof startServer>>;
  let rated: Awaited<ReturnType<typeof startServer>>;
  const opened: WebSocket[] = [];
  before(async () => {
    const trust = { trustProxy: ['127.0.0.1'], forwardedHeader: 'forwarded' as const };
    concurrent = await startServer({ ...trust, maxConnectionsPerClient: 1, path: '/concurrent/upload' });
    // A rate so low that no token comes back during the test: the burst is all an address gets.
    rated = await startServer({
      ...trust,
      maxConnectionRatePerClient: 0.001,
      connectionBurstPerClient: 2,
      path: '/rated/upload',
    });
    nginx = await Nginx.start([
      { path: '/concurrent/', upstreams: [concurrent.server.port], forwarded: 'forwarded' },
      { path: '/rated/', upstreams: [rated.server.port], forwarded: 'forwarded' },
    ]);
  });
  after(async () => {
    for (const socket of opened) socket.terminate();
    await nginx?.stop();
    await concurrent?.stop();
    await rated?.stop();
  });

  it('two clients behind it get their own concurrency limits; forged headers change nothing', async () => {
    const url = nginx.urlFor('/concurrent/upload');
    const a = await connectFrom(url, '127.0.0.2');
    const b = await connectFrom(url, '127.0.0.3');
    opened.push(a.socket, b.socket);
    assert.equal(a.status, 101, 'the first client is let in');
    assert.equal(b.status, 101, 'so is the second: it has its own limit');
    // nginx appends the real address to a Forwarded the client sent; the rightmost untrusted one counts.
    // X-Forwarded-For is not read at all when the server is told the proxy sets Forwarded.
    const forged = await connectFrom(url, '127.0.0.2', {
      Forwarded: 'for=10.9.9.9',
      'X-Forwarded-For': '10.8.8.8',
    });
    opened.push(forged.socket);
    assert.equal(forged.status, 429, 'its own limit, whatever it claims');
    assert.equal(concurrent.server.connections, 2);
  });

  it('limits the connection rate per client address, not per proxy', async () => {
    const url = nginx.urlFor('/rated/upload');
    const statuses: Record<string, number[]> = { '127.0.0.4': [], '127.0.0.5': [] };
    // Each connection is closed at once: the rate limit is about new connections, not open ones.
    for (const local of ['127.0.0.4', '127.0.0.4', '127.0.0.4', '127.0.0.5', '127.0.0.5', '127.0.0.5']) {
      const { socket, status } = await connectFrom(url, local);
      statuses[local]!.push(status);
      socket.terminate();
    }
    assert.deepEqual(statuses['127.0.0.4'], [101, 101, 429], 'the first client: its burst, then refused');
    assert.deepEqual(statuses['127.0.0.5'], [101, 101, 429], 'the second has a burst of its own');
  });
});

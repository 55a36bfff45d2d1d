// Behind a proxy (issue 15): the client address comes from X-Forwarded-For / Forwarded only when the hop it
// came from is trusted (--trust-proxy), never by default; per-address connection rate limits. The end-to-end
// case runs a real nginx from Debian (/usr/sbin/nginx; .ci/run installs it), started by the test with its
// own configuration on a port picked at run time and stopped by its PID. Two clients behind it, on
// 127.0.0.2 and 127.0.0.3, get their own limits; without trust they share the proxy's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { createUploadServer } from '../../src/server/index.ts';
import { clientAddress } from '../../src/server/client-address.ts';
import { ConnectionRate } from '../../src/server/limits.ts';
import { bytes, eventually, Peer, readStored, sha256, startServer, tempDir, uploadV1 } from './peer.ts';

const NGINX = '/usr/sbin/nginx';

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

/** A port free right now on 127.0.0.1 (nginx cannot be told to pick one). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** nginx in front of two upload servers: /trusted/ (trustProxy 127.0.0.1) and /plain/ (no trust). */
class Nginx {
  readonly child: ChildProcess;
  readonly port: number;
  readonly #prefix: string;

  private constructor(child: ChildProcess, port: number, prefix: string) {
    this.child = child;
    this.port = port;
    this.#prefix = prefix;
  }

  static async start(upstreams: Record<string, number>): Promise<Nginx> {
    assert.ok(existsSync(NGINX), `nginx is needed: apt-get install -y nginx (${NGINX} is missing)`);
    const prefix = await tempDir();
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const locations = Object.entries(upstreams)
        .map(
          ([location, upstream]) => `
      location /${location}/ {
        proxy_pass http://127.0.0.1:${upstream};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_read_timeout 60s;
      }`,
        )
        .join('\n');
      const temp = (name: string) => `${name}_temp_path ${path.join(prefix, name)};`;
      await writeFile(
        path.join(prefix, 'nginx.conf'),
        `daemon off;
master_process off;
worker_processes 1;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
  server {
    listen 127.0.0.1:${port};
    ${locations}
  }
}
`,
      );
      await mkdir(path.join(prefix, 'logs'), { recursive: true });
      const child = spawn(
        NGINX,
        ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')],
        {
          stdio: 'ignore',
        },
      );
      const listening = await (async () => {
        for (let i = 0; i < 100 && child.exitCode === null; i++) {
          const up = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
            socket.once('error', () => resolve(false));
          });
          if (up) return true;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return false;
      })();
      if (listening) return new Nginx(child, port, prefix);
      child.kill('SIGKILL');
      const log = await readFile(path.join(prefix, 'error.log'), 'utf8').catch(() => '');
      if (!/Address already in use/.test(log)) assert.fail(`nginx did not start: ${log}`);
    }
    assert.fail('nginx found no free port in three tries');
  }

  url(location: string): string {
    return `ws://127.0.0.1:${this.port}/${location}/upload`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    await rm(this.#prefix, { recursive: true, force: true });
  }
}

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
    nginx = await Nginx.start({ trusted: trusted.server.port, plain: plain.server.port });
  });
  after(async () => {
    for (const socket of opened) socket.terminate();
    await nginx?.stop();
    await trusted?.stop();
    await plain?.stop();
  });

  it('two clients behind it get their own limits when nginx is trusted; a forged header changes nothing', async () => {
    const a = await connectFrom(nginx.url('trusted'), '127.0.0.2');
    const b = await connectFrom(nginx.url('trusted'), '127.0.0.3');
    opened.push(a.socket, b.socket);
    assert.equal(a.status, 101, 'the first client is let in');
    assert.equal(b.status, 101, 'so is the second: it has its own limit');
    // The first client again, now claiming another address: nginx appends the real one, which is used.
    const again = await connectFrom(nginx.url('trusted'), '127.0.0.2', { 'X-Forwarded-For': '10.9.9.9' });
    opened.push(again.socket);
    assert.equal(again.status, 429, 'its own limit, whatever it claims');
    assert.equal(trusted.server.connections, 2);
  });

  it('without trust every client behind nginx is nginx: they share one limit', async () => {
    const a = await connectFrom(nginx.url('plain'), '127.0.0.2');
    const b = await connectFrom(nginx.url('plain'), '127.0.0.3');
    opened.push(a.socket, b.socket);
    assert.equal(a.status, 101);
    assert.equal(b.status, 429, 'the second client counts against the proxy address');
  });

  it('an upload through nginx is stored byte for byte', async () => {
    for (const socket of opened.splice(0)) socket.terminate();
    await eventually(() => trusted.server.connections === 0, 'the earlier connections to close');
    const peer = await Peer.connect(nginx.url('trusted'));
    const data = bytes(300_000, 8);
    const answers = await uploadV1(peer, 'proxied.bin', data, 'binary', 64 * 1024);
    assert.ok(answers.every((answer) => answer.code === 200));
    peer.close();
    assert.equal(sha256(await readStored(trusted.dir, 'proxied.bin')), sha256(data));
  });
});

// A real nginx from Debian (/usr/sbin/nginx; .ci/run installs it) in front of upload servers, as the
// deployment guide configures it (docs/server.md, docs/deployment.md), on loopback and without TLS. The test
// starts it with its own configuration in a temporary prefix, on a port picked at run time, and stops it by
// its PID. One builder for every test that needs a proxy: the S3 cluster and the trust-proxy tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const NGINX = '/usr/sbin/nginx';

/** A port free right now on 127.0.0.1 (nginx cannot be told to pick one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Which forwarded-for header nginx sets on the way to the servers. */
export type NginxForwarded = 'x-forwarded-for' | 'forwarded';

/** One `location` of the proxy. */
export interface NginxLocation {
  /** The location prefix, e.g. `/upload` or `/trusted/`. */
  path: string;
  /** Ports of the servers on 127.0.0.1; several are balanced round robin and a dead one is skipped. */
  upstreams: number[];
  /** The forwarded-for header nginx appends the client's address to; X-Forwarded-For by default. */
  forwarded?: NginxForwarded;
}

// nginx's own recipe for RFC 7239: append this hop's element to what the client (or an earlier proxy) sent.
// Quoted, since an IPv6 address must be (RFC 7239 section 6); the server strips the quotes.
const FORWARDED_MAP = `map $http_forwarded $proxy_add_forwarded {
    ''      "for=\\"$remote_addr\\"";
    default "$http_forwarded, for=\\"$remote_addr\\"";
  }`;

/** The nginx.conf for `locations`, listening on `port`, with its files under `prefix`. */
export function nginxConfig(prefix: string, port: number, locations: NginxLocation[]): string {
  const temp = (name: string) => `${name}_temp_path ${path.join(prefix, name)};`;
  const upstreams = locations
    .map(
      (location, index) => `upstream nodes_${index} {
    ${location.upstreams.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n    ')}
  }`,
    )
    .join('\n  ');
  const blocks = locations
    .map(
      (location, index) => `location ${location.path} {
      proxy_pass http://nodes_${index};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      ${
        location.forwarded === 'forwarded'
          ? 'proxy_set_header Forwarded $proxy_add_forwarded;'
          : 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;'
      }
      proxy_read_timeout 300s;
      proxy_send_timeout 300s;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
    }`,
    )
    .join('\n    ');
  return `daemon off;
master_process off;
worker_processes 1;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
  ${upstreams}
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  ${FORWARDED_MAP}
  server {
    listen 127.0.0.1:${port};
    ${blocks}
  }
}
`;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` now. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A running nginx. */
export class Nginx {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #prefix: string;

  private constructor(child: ChildProcess, port: number, prefix: string) {
    this.#child = child;
    this.port = port;
    this.#prefix = prefix;
  }

  /**
   * Starts nginx with `locations`; retries on another port when the picked one was taken meanwhile.
   *
   * @throws {Error} when nginx is missing or does not start (with its error log)
   */
  static async start(locations: NginxLocation[]): Promise<Nginx> {
    if (!existsSync(NGINX))
      throw new Error(`nginx is needed: apt-get install -y nginx (${NGINX} is missing)`);
    const prefix = await mkdtemp(path.join(os.tmpdir(), 'wsfu-nginx-'));
    await mkdir(path.join(prefix, 'logs'), { recursive: true });
    const log = path.join(prefix, 'error.log');
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      await writeFile(path.join(prefix, 'nginx.conf'), nginxConfig(prefix, port, locations));
      const child = spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', log], {
        stdio: 'ignore',
      });
      // Up to 10 s (200 × 50 ms), less when nginx exits first.
      for (let i = 0; i < 200 && child.exitCode === null; i++) {
        if (await accepting(port)) return new Nginx(child, port, prefix);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGKILL');
      const text = await readFile(log, 'utf8').catch(() => '');
      if (!/Address already in use/.test(text)) {
        await rm(prefix, { recursive: true, force: true });
        throw new Error(`nginx did not start: ${text}`);
      }
    }
    await rm(prefix, { recursive: true, force: true });
    throw new Error('nginx found no free port in three tries');
  }

  /** The WebSocket URL of `/upload` through the proxy (the deployment guide's location). */
  get url(): string {
    return this.urlFor('/upload');
  }

  /** The WebSocket URL of `pathname` through the proxy. */
  urlFor(pathname: string): string {
    return `ws://127.0.0.1:${this.port}${pathname}`;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(this.#prefix, { recursive: true, force: true });
  }
}

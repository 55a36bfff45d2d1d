// Several upload nodes on one bucket behind a real nginx (Debian's /usr/sbin/nginx), as in production: each
// node is the real command (src/server/cli.ts --s3-bucket …) in its own process on its own port on
// 127.0.0.1, credentials in its environment only. Nodes can be SIGKILLed, stopped (SIGTERM) and started
// again on their port; everything is stopped by PID. Ports are picked at run time.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, Nginx } from './nginx.ts';
import type { S3Engine } from './s3-engine.ts';

export { freePort, NGINX } from './nginx.ts';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One upload node: the command, on a fixed port so that nginx finds it again after a restart. */
export class UploadNode {
  readonly port: number;
  readonly #args: string[];
  readonly #env: Record<string, string>;
  child: ChildProcess | undefined;
  output = '';

  constructor(port: number, args: string[], env: Record<string, string>) {
    this.port = port;
    this.#args = args;
    this.#env = env;
  }

  async start(): Promise<void> {
    this.output = '';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/server/cli.ts'), '--port', String(this.port), ...this.#args],
      { cwd: ROOT, env: { ...process.env, ...this.#env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (data: Buffer) => (this.output += data.toString()));
    child.stderr!.on('data', (data: Buffer) => (this.output += data.toString()));
    await until(() => {
      if (child.exitCode !== null) throw new Error(`node on ${this.port} exited: ${this.output}`);
      return this.output.includes('ws-file-upload server: uploads to');
    }, `the node on ${this.port}`);
  }

  /** How many uploads it is receiving now (its /metrics). */
  async activeUploads(): Promise<number> {
    if (!this.child || this.child.exitCode !== null) return 0;
    try {
      const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
      return Number(/^wsfu_active_uploads (\d+)/m.exec(text)?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  /** The peak resident set size of the process so far, in bytes (Linux: VmHWM). */
  async peakRss(): Promise<number> {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${this.child!.pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

/** `count` nodes on `bucket` behind one nginx. */
export async function startCluster(
  engine: S3Engine,
  bucket: string,
  count: number,
  extraArgs: string[] = [],
) {
  const args = [
    '--host',
    '127.0.0.1',
    '--s3-bucket',
    bucket,
    '--s3-endpoint',
    engine.endpoint,
    '--s3-path-style',
    '--log-level',
    'warn',
    ...extraArgs,
  ];
  const nodes: UploadNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(new UploadNode(await freePort(), args, engine.env));
  await Promise.all(nodes.map((node) => node.start()));
  // nginx as the load balancer in front of the nodes (round robin; a dead node is skipped).
  const nginx = await Nginx.start([{ path: '/upload', upstreams: nodes.map((node) => node.port) }]);
  return {
    nodes,
    nginx,
    /** The node receiving an upload now, if one is. */
    async busyNode(): Promise<UploadNode | undefined> {
      for (const node of nodes) if ((await node.activeUploads()) > 0) return node;
      return undefined;
    },
    async stop() {
      await nginx.stop();
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
    },
  };
}

// The real `ws-file-upload-server` command (src/server/cli.ts) in a child process, for tests that attack the
// server as it is run: its default options and flags, its own process (a crash is an exit, not a test
// failure somewhere else), optionally as another user (`uid`/`gid`: root ignores file permissions, so an
// EACCES needs an unprivileged server).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const URL_LINE = /ws:\/\/127\.0\.0\.1:\d+\/upload/;

export interface CliProcess {
  child: ChildProcess;
  /** The WebSocket endpoint the CLI printed. */
  url: string;
  /** The same host and port over HTTP, with `route` in place of the upload path. */
  http(route: string): string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code or signal once it exited. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** Whether it is still running (a crash ends it). */
  running(): boolean;
  /** SIGKILL, then waits for the exit. */
  stop(): Promise<void>;
}

export interface CliOptions {
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  /** Its file-descriptor limit (RLIMIT_NOFILE, set with prlimit): a small one makes fd exhaustion cheap. */
  maxOpenFiles?: number;
  /** How long it may take to print its URL. */
  startTimeout?: number;
}

/** Starts the CLI with `--port 0 --log-level silent` and `args`; resolves once it listens. */
export async function startCli(args: string[], options: CliOptions = {}): Promise<CliProcess> {
  const command = [
    process.execPath,
    ...[
      '--import',
      'tsx',
      path.join(ROOT, 'src/server/cli.ts'),
      '--port',
      '0',
      '--log-level',
      'silent',
      ...args,
    ],
  ];
  // prlimit execs the command in its own process: the pid and the signals are the server's.
  if (options.maxOpenFiles !== undefined) {
    command.unshift('prlimit', `--nofile=${options.maxOpenFiles}:${options.maxOpenFiles}`, '--');
  }
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + (options.startTimeout ?? 30_000);
  while (!URL_LINE.test(out)) {
    if (!running()) throw new Error(`The CLI exited before listening: ${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The CLI did not print its URL in time: ${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const url = URL_LINE.exec(out)![0];
  return {
    child,
    url,
    http: (route) => url.replace('ws:', 'http:').replace(/\/upload$/, route),
    output: () => out,
    exited,
    running,
    async stop() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

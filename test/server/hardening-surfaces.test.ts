// Secrets and surfaces (issue 15): secrets from files and the environment rather than argv, /metrics on its
// own listener or behind a token, liveness apart from readiness, a static folder that serves only itself,
// the mode of stored files, and no symlink followed inside the upload folder.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { createUploadServer } from '../../src/server/index.ts';
import { eventually, Peer, readStored, startServer, storedFiles, tempDir, uploadV1 } from './peer.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const http = (url: string, route: string) => url.replace('ws:', 'http:').replace(/\/upload$/, route);
const STOR = (body: Record<string, unknown>) => `STOR: ${JSON.stringify(body)}`;

async function started(options: Parameters<typeof startServer>[0] = {}) {
  const env = await startServer(options);
  cleanups.push(() => env.stop());
  return env;
}

describe('liveness and readiness', () => {
  it('/livez answers while /healthz and /readyz check the folder and the free-space floor', async () => {
    const env = await started();
    assert.equal((await fetch(http(env.url, '/livez'))).status, 200);
    const ready = await fetch(http(env.url, '/readyz'));
    assert.equal(ready.status, 200);
    assert.deepEqual((await ready.json()).checks, { writable: true, freeSpace: true });
    // The upload folder gone (a lost mount): not ready, though alive.
    await rm(env.dir, { recursive: true, force: true });
    await eventually(async () => (await fetch(http(env.url, '/healthz'))).status === 503, 'unready', 5000);
    const body = await (await fetch(http(env.url, '/healthz'))).json();
    assert.equal(body.status, 'unready');
    assert.equal(body.checks.writable, false);
    assert.equal((await fetch(http(env.url, '/livez'))).status, 200);
    await mkdir(env.dir);
  });

  it('is unready below the free-space floor', async () => {
    const env = await started({ minFreeSpace: 2 ** 60 });
    const response = await fetch(http(env.url, '/healthz'));
    assert.equal(response.status, 503);
    assert.deepEqual((await response.json()).checks, { writable: true, freeSpace: false });
  });
});

describe('/metrics', () => {
  it('behind a token: 401 without it or with a wrong one, 200 with it', async () => {
    const env = await started({ metricsToken: 'm-secret' });
    const url = http(env.url, '/metrics');
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { Authorization: 'Bearer nope' } })).status, 401);
    const ok = await fetch(url, { headers: { Authorization: 'Bearer m-secret' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /wsfu_connections/);
  });

  it('on its own listener: served there, not on the upload port', async () => {
    const env = await started({ metricsPort: 0 });
    const port = env.server.operations.metricsPort!;
    assert.ok(port > 0 && port !== env.server.port);
    assert.equal((await fetch(http(env.url, '/metrics'))).status, 426, 'the upload port does not serve it');
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/livez`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/upload`)).status, 404);
  });

  it('is not served without a token where the listener is not loopback-only (attached server)', async () => {
    const dir = await tempDir();
    const host = createServer();
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const server = await createUploadServer({ dir, server: host });
    cleanups.push(async () => {
      await server.close();
      await new Promise((resolve) => host.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });
    const response = { writeHead: () => response, end: () => response } as never;
    const request = { method: 'GET', url: '/metrics', headers: {} } as never;
    assert.equal(await server.handleOperationalRequest(request, response), false);
    const withToken = await createUploadServer({ dir, server: createServer(), metricsToken: 't' });
    cleanups.push(() => withToken.close());
    let status = 0;
    const answer = {
      writeHead: (code: number) => ((status = code), answer),
      end: () => answer,
    } as never;
    const authorized = { method: 'GET', url: '/metrics', headers: { authorization: 'Bearer t' } } as never;
    assert.equal(await withToken.handleOperationalRequest(authorized, answer), true);
    assert.equal(status, 200);
  });
});

describe('secrets out of argv', () => {
  async function cli(args: string[], env: Record<string, string> = {}) {
    const dir = await tempDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/server/cli.ts', '--dir', dir, '--port', '0', '--log-level', 'silent', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    await eventually(() => /ws:\/\/127\.0\.0\.1:\d+\/upload/.test(out), 'the CLI to print its URL', 20_000);
    const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0').join(' ');
    return { url: /ws:\/\/127\.0\.0\.1:\d+\/upload/.exec(out)![0], out: () => out, cmdline };
  }

  async function tokenWorks(url: string, token: string) {
    const peer = await Peer.connect(url);
    const answer = await peer.ask(`AUTH: ${JSON.stringify({ token })}`);
    peer.close();
    return answer.code;
  }

  it('--token-file: the token works and is not in the command line', async () => {
    const file = path.join(await tempDir(), 'token');
    await writeFile(file, 'file-secret\n', { mode: 0o600 });
    cleanups.push(() => rm(path.dirname(file), { recursive: true, force: true }));
    const run = await cli(['--token-file', file]);
    assert.ok(!run.cmdline.includes('file-secret'), run.cmdline);
    assert.equal(await tokenWorks(run.url, 'file-secret'), 200);
    assert.equal(await tokenWorks(run.url, 'wrong'), 401);
  });

  it('WSFU_TOKEN and WSFU_METRICS_TOKEN from the environment; --metrics-port', async () => {
    const run = await cli(['--metrics-port', '0'], {
      WSFU_TOKEN: 'env-secret',
      WSFU_METRICS_TOKEN: 'env-metrics',
    });
    assert.ok(!run.cmdline.includes('env-secret'));
    assert.equal(await tokenWorks(run.url, 'env-secret'), 200);
    await eventually(() => /Metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/.test(run.out()), 'the metrics URL');
    const metrics = /Metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(run.out())![1]!;
    assert.equal((await fetch(metrics)).status, 401);
    assert.equal((await fetch(metrics, { headers: { Authorization: 'Bearer env-metrics' } })).status, 200);
  });

  it('--token on the command line still works, with a warning that it is visible', async () => {
    const run = await cli(['--token', 'argv-secret']);
    assert.match(run.out(), /visible to every user in ps/);
    assert.equal(await tokenWorks(run.url, 'argv-secret'), 200);
  });
});

describe('static folder', () => {
  it('serves only its own files: no dotfiles, source maps, symlinks out, or files a mount does not list', async () => {
    const root = await tempDir();
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const site = path.join(root, 'site');
    const dist = path.join(root, 'dist');
    await mkdir(site);
    await mkdir(path.join(dist, 'server'), { recursive: true });
    await writeFile(path.join(site, 'index.html'), '<p>demo</p>');
    await writeFile(path.join(site, '.env'), 'SECRET=1');
    await writeFile(path.join(site, 'app.js.map'), '{}');
    await writeFile(path.join(root, 'outside.txt'), 'outside');
    await symlink(path.join(root, 'outside.txt'), path.join(site, 'link.txt'));
    await symlink(root, path.join(site, 'up'));
    await writeFile(path.join(dist, 'ws-file-upload.bundle.min.js'), 'export {}');
    await writeFile(path.join(dist, 'ws-file-upload.bundle.min.js.map'), '{}');
    await writeFile(path.join(dist, 'server', 'cli.js'), '// server code');
    const env = await started({
      staticDir: site,
      staticMounts: { '/dist': { dir: dist, only: /^\/[\w.-]+\.min\.js$/ } },
    });
    const status = async (route: string) => (await fetch(http(env.url, route))).status;
    assert.equal(await status('/'), 200);
    assert.equal(await status('/dist/ws-file-upload.bundle.min.js'), 200);
    for (const route of [
      '/.env',
      '/app.js.map',
      '/link.txt',
      '/up/outside.txt',
      '/%2e%2e/outside.txt',
      '/dist/ws-file-upload.bundle.min.js.map',
      '/dist/server/cli.js',
      '/dist/%2e%2e/site/index.html',
    ]) {
      assert.equal(await status(route), 404, route);
    }
  });
});

describe('stored files', () => {
  it('get mode 0600 by default and the configured fileMode otherwise', async () => {
    for (const [options, mode] of [
      [{}, 0o600],
      [{ fileMode: 0o640 }, 0o640],
    ] as const) {
      const env = await started(options);
      const peer = await Peer.connect(env.url);
      await uploadV1(peer, 'mode.txt', Buffer.from('mode'), 'binary');
      peer.close();
      assert.equal((await stat(path.join(env.dir, 'mode.txt'))).mode & 0o777, mode);
    }
    await assert.rejects(createUploadServer({ dir: '/tmp', port: 0, fileMode: 0o1777 }), /"fileMode"/);
  });
});

describe('symlinks inside the upload folder are never followed', () => {
  async function contained() {
    const parent = await tempDir();
    cleanups.push(() => rm(parent, { recursive: true, force: true }));
    const dir = path.join(parent, 'uploads');
    const outside = path.join(parent, 'outside');
    await mkdir(dir);
    await mkdir(outside);
    return { parent, dir, outside };
  }

  it('a planted user folder that is a symlink: refused, nothing written outside', async () => {
    const { dir, outside } = await contained();
    await symlink(outside, path.join(dir, 'ann'));
    const server = await createUploadServer({
      dir,
      port: 0,
      host: '127.0.0.1',
      userFolders: true,
      authenticate: () => ({ user: 'ann' }),
    });
    cleanups.push(() => server.close());
    const peer = await Peer.connect(server.url);
    await peer.ask('AUTH: {"login":"ann","password":"x"}');
    const answers = await uploadV1(peer, 'evil.txt', Buffer.from('evil'), 'binary').catch(() => []);
    assert.ok(answers.some((answer) => answer.code === 500) || peer.closed, JSON.stringify(answers));
    assert.deepEqual(await readdir(outside), []);
  });

  it('a planted partial folder that is a symlink: refused, nothing written outside', async () => {
    const { dir, outside } = await contained();
    await symlink(outside, path.join(dir, '.partial'));
    const server = await createUploadServer({ dir, port: 0, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const peer = await Peer.connect(server.url);
    const answer = await peer.ask(STOR({ filename: 'p.txt', size: 4, type: 'binary' }));
    assert.equal(answer.code, 500);
    assert.deepEqual(await readdir(outside), []);
  });

  it('a symlink under the wished name is left alone: the file gets the next name (or replaces the link)', async () => {
    for (const overwrite of [false, true]) {
      const { dir, outside } = await contained();
      const target = path.join(outside, 'victim.txt');
      await writeFile(target, 'victim');
      await symlink(target, path.join(dir, 'x.txt'));
      const server = await createUploadServer({ dir, port: 0, host: '127.0.0.1', overwrite });
      cleanups.push(() => server.close());
      const peer = await Peer.connect(server.url);
      await uploadV1(peer, 'x.txt', Buffer.from('upload'), 'binary');
      peer.close();
      assert.equal(await readFile(target, 'utf8'), 'victim', 'the file the link points to is untouched');
      const stored = overwrite ? 'x.txt' : 'x (1).txt';
      assert.equal((await readStored(dir, stored)).toString(), 'upload');
      assert.ok((await storedFiles(dir)).includes(stored));
    }
  });
});

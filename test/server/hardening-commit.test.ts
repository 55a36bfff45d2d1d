// Stored once, whatever moment the server dies (issue 15). The server runs as a child process that kills
// itself with SIGKILL at one step of the commit (the WSFU_TEST_CRASH_AT hook, see crash-points.ts); a new
// process on the same folder then serves the client's resume. At every step, and for each way of naming,
// the file must end up stored exactly once, with the bytes the client sent, and the partial name gone.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { COMMIT_STEPS } from '../../src/server/stores/crash-points.ts';
import { bytes, eventually, partialFiles, Peer, readStored, sha256, storedFiles, tempDir } from './peer.ts';

const HELPER = path.resolve(import.meta.dirname, '../helpers/server-process.ts');
const CHUNK = 16 * 1024;
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

interface Started {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
}

async function startProcess(dir: string, options: object, crashAt?: string): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, WSFU_TEST_SERVER_OPTIONS: JSON.stringify(options) };
  if (crashAt) env.WSFU_TEST_CRASH_AT = crashAt;
  else delete env.WSFU_TEST_CRASH_AT;
  const child = spawn(process.execPath, ['--import', 'tsx', HELPER, dir, '0'], { env, stdio: 'pipe' });
  children.add(child);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  let out = '';
  child.stdout!.on('data', (data: Buffer) => (out += data.toString()));
  let err = '';
  child.stderr!.on('data', (data: Buffer) => (err += data.toString()));
  await eventually(
    () => /listening \d+/.test(out) || child.exitCode !== null,
    'the server to listen',
    30_000,
  );
  const port = /listening (\d+)/.exec(out)?.[1];
  assert.ok(port, `the server started: ${err}`);
  return { child, url: `ws://127.0.0.1:${port}/upload`, exited };
}

const stor = (size: number, resume: string | null) =>
  `STOR: ${JSON.stringify({
    filename: 'crash.bin',
    size,
    type: 'binary',
    v: 2,
    ext: { binary: true, window: 1, fin: true, checksum: ['sha256'], resume },
  })}`;
const fin = (data: Buffer) =>
  `FIN: ${JSON.stringify({ size: data.length, checksum: `sha256:${createHash('sha256').update(data).digest('base64')}` })}`;

const VARIANTS: { name: string; options: object; existing?: boolean; expected: (data: Buffer) => string }[] =
  [
    {
      name: 'a name already taken (numbered copy)',
      options: {},
      existing: true,
      expected: () => 'crash (1).bin',
    },
    { name: 'content naming', options: { naming: 'sha256' }, expected: (data) => `${sha256(data)}.bin` },
    { name: 'overwrite', options: { overwrite: true }, expected: () => 'crash.bin' },
  ];

for (const variant of VARIANTS) {
  describe(`a SIGKILL at each step of the commit, ${variant.name}`, () => {
    for (const step of COMMIT_STEPS) {
      it(`at "${step}": stored once after the restart and the resume`, async () => {
        const dir = await tempDir();
        const other = Buffer.from('somebody else’s file');
        if (variant.existing) await writeFile(path.join(dir, 'crash.bin'), other);
        const data = bytes(3 * CHUNK + 5, 11);
        const first = await startProcess(dir, variant.options, step);
        const peer = await Peer.connect(first.url);
        const started = await peer.ask(stor(data.length, null));
        assert.equal(started.code, 200);
        const id = started.id as string;
        for (let at = 0; at < data.length; at += CHUNK) {
          assert.equal((await peer.ask(data.subarray(at, at + CHUNK))).code, 200);
        }
        peer.socket.send(fin(data));
        assert.equal(await first.exited, 'SIGKILL', `the server died at "${step}"`);
        await peer.waitClose();

        const second = await startProcess(dir, variant.options);
        try {
          const again = await Peer.connect(second.url);
          const resumed = await again.ask(stor(data.length, id));
          assert.equal(resumed.code, 200, JSON.stringify(resumed));
          for (let at = resumed.offset as number; at < data.length; at += CHUNK) {
            assert.equal((await again.ask(data.subarray(at, at + CHUNK))).code, 200);
          }
          const done = await again.ask(fin(data));
          assert.equal(done.code, 200, JSON.stringify(done));
          const expected = variant.expected(data);
          assert.equal(done.filename, expected);
          const wanted = variant.existing ? ['crash.bin', expected].sort() : [expected];
          assert.deepEqual(await storedFiles(dir), wanted, 'stored once, nothing lost');
          assert.equal(sha256(await readStored(dir, expected)), sha256(data));
          if (variant.existing) assert.deepEqual(await readStored(dir, 'crash.bin'), other);
          assert.deepEqual(await partialFiles(dir), [`${id}.json`], 'only the completion record is left');
          again.socket.terminate();
        } finally {
          second.child.kill('SIGTERM');
          await second.exited;
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
}

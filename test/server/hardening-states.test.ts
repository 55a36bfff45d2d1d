// Every hostile command in every state of a connection (issue 15, wave 2): out of order, repeated, at the
// edges of JSON numbers (2^53, negative, 1e400 which JSON.parse reads as Infinity, strings), binary frames
// in base64 mode and text in binary mode, prototype keys, commands a state does not take. Against the CLI
// with default options but the connection rate (one connection per pair, hundreds in a few seconds). What must hold for every pair: an answer or a close within a bound (never a
// hang), each answer a well-formed one (a known type, an HTTP-like code, a message without a path), the
// server up, and nothing in the upload folder but files whose uploads were completed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashPassword } from '../../src/server/access.ts';
import { startCli, type CliProcess } from '../helpers/cli-process.ts';
import { bytes, Peer, readStored, sha256, storedFiles, tempDir, uploadV1 } from './peer.ts';

const json = (command: string, body: unknown) => `${command}: ${JSON.stringify(body)}`;
const DATA = Buffer.from('abcd');
const digest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('base64')}`;
const v2 = (size: number, ext: Record<string, unknown> = {}) =>
  json('STOR', {
    filename: 'state.bin',
    size,
    type: 'binary',
    v: 2,
    ext: { binary: true, window: 4, fin: true, reuse: true, checksum: ['sha256'], ...ext },
  });

/** How a connection gets into each state: frames each answered 200. */
const STATES: Record<string, (string | Buffer)[]> = {
  fresh: [],
  'after AUTH': [json('AUTH', { login: 'a', password: 'b' })],
  'v1 base64, receiving': [json('STOR', { filename: 'state.bin', size: 10, type: 'base64' })],
  'v1 binary, receiving': [json('STOR', { filename: 'state.bin', size: 10, type: 'binary' })],
  'v2, receiving': [v2(10)],
  'v2, all bytes in, before FIN': [v2(DATA.length), DATA],
  'v2, after FIN (reuse)': [
    v2(DATA.length),
    DATA,
    json('FIN', { size: DATA.length, checksum: digest(DATA) }),
  ],
};

// `Infinity` stands for the JSON text 1e400, which JSON.parse reads as Infinity (JSON.stringify would write
// null): the marker is replaced by that text once the frame is written.
const HUGE = [2 ** 53, -1, 1.5, '5', Infinity, -0, null, [], {}] as const;
const raw = (text: string) => text.replace(/"__1e400__"/g, '1e400');
const hugeValue = (value: unknown) => (value === Infinity ? '__1e400__' : value);

/** The hostile messages, each sent in each state. */
const MESSAGES: [name: string, frame: string | Buffer][] = [
  ['empty text frame', ''],
  ['empty binary frame', Buffer.alloc(0)],
  ['binary chunk', Buffer.from('wxyz')],
  ['base64 chunk', Buffer.from('wxyz').toString('base64')],
  ['oversized binary chunk (past the declared size)', bytes(64, 2)],
  ['garbage text', '\u0000\u0001 not a command'],
  ['lower-case command', 'stor: {"filename":"a","size":1}'],
  ['STOR without body', 'STOR'],
  ['STOR: null', 'STOR: null'],
  ['STOR: []', 'STOR: []'],
  ['STOR: "x"', 'STOR: "x"'],
  ['STOR with __proto__', '{"__proto__":{"size":5}}'.replace(/^/, 'STOR: ')],
  ['STOR v1 again', json('STOR', { filename: 'again.bin', size: 3, type: 'binary' })],
  ['STOR v2 again', v2(3)],
  ...HUGE.map((size): [string, string] => [
    `STOR size ${String(size)}`,
    raw(json('STOR', { filename: 'n.bin', size: hugeValue(size), type: 'binary' })),
  ]),
  ...(['window', 'chunk', 'block', 'early'] as const).flatMap((field) =>
    HUGE.map((value): [string, string] => [
      `STOR ext.${field} ${String(value)}`,
      raw(v2(3, { [field]: hugeValue(value) })),
    ]),
  ),
  ['STOR ext.resume of nobody', v2(3, { resume: 'u_AAAAAAAAAAAAAAAAAAAAAAAA' })],
  ['STOR ext.resume a number', v2(3, { resume: 5 })],
  ['STOR ext.checksum huge list', v2(3, { checksum: Array(10_000).fill('sha256') })],
  ['STOR ext not an object', json('STOR', { filename: 'x', size: 1, v: 2, ext: 'binary' })],
  ['STOR v 2^53', json('STOR', { filename: 'x', size: 1, v: 2 ** 53, ext: {} })],
  [
    'STOR parameters deep',
    `STOR: {"filename":"x","size":1,"parameters":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  ],
  ['FIN', json('FIN', { size: DATA.length, checksum: digest(DATA) })],
  ['FIN size 2^53', json('FIN', { size: 2 ** 53 })],
  ['FIN size -1', json('FIN', { size: -1 })],
  ['FIN checksum garbage', json('FIN', { size: 4, checksum: 'md5:zzz' })],
  ['FIN: {}', 'FIN: {}'],
  ['FIN without body', 'FIN'],
  ['ABOR', 'ABOR: {}'],
  ['ABOR without body', 'ABOR'],
  ['ABOR of nobody', json('ABOR', { id: 'u_AAAAAAAAAAAAAAAAAAAAAAAA' })],
  ['ABOR id a number', json('ABOR', { id: 7 })],
  ['SUM', json('SUM', { block: 0, sha256: 'AAAA' })],
  ['SUM block -1', json('SUM', { block: -1, sha256: 'AAAA' })],
  ['SUM block 2^53', json('SUM', { block: 2 ** 53, sha256: 'AAAA' })],
  ['BLK', json('BLK', { block: 0 })],
  ['AUTH', json('AUTH', { login: 'x', password: 'y' })],
  ['AUTH with objects', json('AUTH', { login: {}, password: [] })],
  ['AUTH token 64 KiB', json('AUTH', { token: 'x'.repeat(60_000) })],
  ['command over maxCommandLength', `STOR: {"filename":"${'a'.repeat(70_000)}","size":1}`],
];

// ERROR: the server cannot tell which command a frame was (docs/protocol.md §1).
const TYPES = new Set(['AUTH', 'STOR', 'DATA', 'FIN', 'ABOR', 'SUM', 'BLK', 'ALIVE', 'ERROR']);

function checkAnswer(answer: Record<string, unknown>, where: string): void {
  assert.ok(TYPES.has(answer.type as string), `${where}: answer type ${JSON.stringify(answer)}`);
  assert.ok(Number.isInteger(answer.code), `${where}: code ${JSON.stringify(answer)}`);
  const code = answer.code as number;
  assert.ok(code >= 200 && code < 600, `${where}: code ${code}`);
  if (code !== 200) {
    assert.equal(typeof answer.message, 'string', `${where}: message ${JSON.stringify(answer)}`);
    assert.doesNotMatch(answer.message as string, /\/tmp|\/work|\bat .*\.ts/, `${where}: no path or stack`);
  }
}

/** The CLI as run: open, with a token file, with a password file. */
const SERVERS: { name: string; args: () => Promise<string[]>; auth?: string }[] = [
  { name: 'default options', args: async () => [] },
  {
    name: '--token-file',
    args: async () => {
      const file = path.join(await tempDir(), 'token');
      await writeFile(file, 'the-token\n');
      return ['--token-file', file];
    },
    auth: json('AUTH', { token: 'the-token' }),
  },
  {
    name: '--htpasswd',
    args: async () => {
      const file = path.join(await tempDir(), 'users');
      await writeFile(file, `${await hashPassword('ann', 'ann-pw')}\n`);
      return ['--htpasswd', file];
    },
    auth: json('AUTH', { login: 'ann', password: 'ann-pw' }),
  },
];

for (const server of SERVERS) {
  describe(`every hostile command in every state (CLI, ${server.name})`, () => {
    let cli: CliProcess;
    let dir: string;
    before(async () => {
      dir = await tempDir();
      // One connection per pair, hundreds in seconds, many wrong AUTHs: neither the connection rate nor the
      // authentication throttle is what this is about (each has its own tests).
      const limits = ['--max-connection-rate-per-client', '10000', '--connection-burst-per-client', '10000'];
      cli = await startCli([
        '--dir',
        dir,
        ...limits,
        '--max-auth-failures',
        '1000000',
        ...(await server.args()),
      ]);
    });
    after(() => cli.stop());

    for (const [state, steps] of Object.entries(STATES)) {
      // With authentication every state but the fresh one is reached after the right AUTH.
      const prefix =
        server.auth && state !== 'fresh'
          ? [server.auth, ...steps.filter((step) => !String(step).startsWith('AUTH'))]
          : steps;
      it(`${state}: each of ${MESSAGES.length} messages is answered or closed, well-formed, server up`, async () => {
        for (const [name, frame] of MESSAGES) {
          const where = `${state} / ${name}`;
          const peer = await Peer.connect(cli.url);
          for (const step of prefix) {
            const answer = await peer.ask(step);
            assert.equal(answer.code, 200, `${where}: prefix ${JSON.stringify(answer)}`);
          }
          peer.socket.send(frame);
          // An answer or a close within 5 s: nothing may leave the client waiting forever.
          const outcome = await peer.next(5000).then(
            (answer) => ({ answer }),
            () => ({ closed: peer.closed }),
          );
          if ('answer' in outcome) checkAnswer(outcome.answer, where);
          else assert.ok(outcome.closed, `${where}: neither an answer nor a close`);
          // Whatever else arrives before the close is well-formed too.
          peer.socket.terminate();
          for (const answer of peer.answers) checkAnswer(answer, where);
          assert.ok(cli.running(), `${where}: the server is up`);
        }
      });
    }

    it('afterwards: the folder holds only completed uploads, and a new one is stored byte for byte', async () => {
      // Completed uploads: the v2 prefix with FIN (state.bin and its numbered copies), and the STOR of size
      // -0 (a 0-byte file, complete when announced) where a STOR is taken (n.bin and copies).
      for (const name of await storedFiles(dir)) {
        const expected = /^state( \(\d+\))?\.bin$/.test(name)
          ? DATA
          : /^n( \(\d+\))?\.bin$/.test(name)
            ? Buffer.alloc(0)
            : undefined;
        assert.ok(expected, `unexpected ${name}`);
        assert.deepEqual(await readStored(dir, name), expected, `${name} is complete`);
      }
      const data = bytes(10_000, 5);
      const peer = await Peer.connect(cli.url);
      if (server.auth) assert.equal((await peer.ask(server.auth)).code, 200);
      await uploadV1(peer, 'final.bin', data, 'binary', 1000);
      peer.close();
      assert.equal(sha256(await readStored(dir, 'final.bin')), sha256(data));
    });
  });
}

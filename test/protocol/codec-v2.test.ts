import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatAbor,
  formatAnswer,
  formatFin,
  formatStor,
  parseAnswer,
  parseCommand,
  parseStorAnswer,
  parseStorOffer,
  ProtocolError,
  type Answer,
  type ParseResult,
} from '../../src/protocol/index.ts';

function expectError<T>(result: ParseResult<T>, code: string): ProtocolError {
  assert.equal(result.ok, false, `expected a ${code} error, got ${JSON.stringify(result)}`);
  if (result.ok) throw new Error('unreachable');
  assert.equal(result.error.code, code);
  return result.error;
}

function expectOk<T>(result: ParseResult<T>): T {
  if (!result.ok) assert.fail(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

const DIGEST = 'sha256:' + 'A'.repeat(43) + '=';

describe('protocol v2 codec', () => {
  describe('FIN', () => {
    it('parses size and checksum and round-trips through formatFin', () => {
      const text = formatFin({ size: 10, checksum: DIGEST });
      assert.equal(text, `FIN: {"size":10,"checksum":"${DIGEST}"}`);
      assert.deepEqual(expectOk(parseCommand(text)), { command: 'FIN', size: 10, checksum: DIGEST });
    });
    it('refuses a missing size, a negative size and a malformed checksum', () => {
      expectError(parseCommand('FIN: {}'), 'badField');
      expectError(parseCommand('FIN: {"size":-1}'), 'badField');
      expectError(parseCommand('FIN: {"size":1,"checksum":"md5:abc"}'), 'badField');
      expectError(parseCommand('FIN: {"size":1,"checksum":7}'), 'badField');
      expectError(parseCommand('FIN: [1]'), 'badJson');
    });
  });

  describe('ABOR', () => {
    it('parses with and without an id', () => {
      assert.deepEqual(expectOk(parseCommand(formatAbor({ id: 'u_abc' }))), { command: 'ABOR', id: 'u_abc' });
      assert.deepEqual(expectOk(parseCommand(formatAbor())), { command: 'ABOR' });
    });
    it('refuses an id that could reach a path', () => {
      expectError(parseCommand('ABOR: {"id":"../../etc/passwd"}'), 'badField');
      expectError(parseCommand('ABOR: {"id":""}'), 'badField');
    });
  });

  describe('STOR offer', () => {
    it('keeps v and ext through formatStor and parseCommand, and reads the offer', () => {
      const ext = { binary: true, window: 8, chunk: 1048576, resume: null, checksum: ['sha256'], fin: true };
      const text = formatStor({ filename: 'a.bin', size: 5, type: 'base64', parameters: [], v: 2, ext });
      assert.ok(!text.includes('\n'), 'one line, for the 2012 regex');
      const stor = expectOk(parseCommand(text));
      assert.equal(stor.command, 'STOR');
      if (stor.command !== 'STOR') return;
      assert.equal(stor.v, 2);
      const offer = expectOk(parseStorOffer(stor.ext!));
      assert.deepEqual(offer, { ...ext, checksum: ['sha256'] });
    });
    it('ignores unknown fields and unknown algorithms, refuses wrong types', () => {
      const offer = expectOk(parseStorOffer({ future: 1, checksum: ['md5', 'sha256'] }));
      assert.deepEqual(offer.checksum, ['sha256']);
      assert.equal(offer.window, 1);
      expectError(parseStorOffer({ window: 0 }), 'badField');
      expectError(parseStorOffer({ window: '8' }), 'badField');
      expectError(parseStorOffer({ binary: 'yes' }), 'badField');
      expectError(parseStorOffer({ resume: 'a/b' }), 'badField');
      expectError(parseStorOffer({ checksum: 'sha256' }), 'badField');
    });
  });

  describe('STOR answer', () => {
    const v2: Answer = {
      type: 'STOR',
      code: 200,
      message: 'ok',
      v: 2,
      id: 'u_1',
      offset: 3,
      ext: { binary: true, window: 8, maxChunk: 4, checksum: 'sha256', fin: true, expires: 'x' },
    };
    it('reads an answer without v as v1', () => {
      assert.equal(expectOk(parseStorAnswer({ type: 'STOR', code: 200, message: 'ok' })), null);
    });
    it('reads a v2 answer', () => {
      const parsed = expectOk(parseStorAnswer(v2));
      assert.equal(parsed?.id, 'u_1');
      assert.equal(parsed?.offset, 3);
      assert.equal(parsed?.ext.window, 8);
    });
    it('refuses half a negotiation', () => {
      expectError(parseStorAnswer({ ...v2, id: undefined }), 'badAnswer');
      expectError(parseStorAnswer({ ...v2, offset: -1 }), 'badAnswer');
      expectError(parseStorAnswer({ ...v2, ext: { ...(v2.ext as object), window: 0 } }), 'badAnswer');
      expectError(parseStorAnswer({ ...v2, ext: null }), 'badAnswer');
      expectError(parseStorAnswer({ ...v2, v: 'two' }), 'badAnswer');
    });
  });

  describe('DATA ack', () => {
    it('formats bytesRead before offset and parses it back', () => {
      const text = formatAnswer({ type: 'DATA', code: 200, bytesRead: 4, offset: 8 });
      assert.equal(text, '{"type":"DATA","code":200,"bytesRead":4,"offset":8}');
      assert.equal(expectOk(parseAnswer(text)).offset, 8);
    });
    it('refuses a bad offset or retryAfter', () => {
      expectError(parseAnswer('{"type":"DATA","code":200,"offset":-1}'), 'badAnswer');
      expectError(parseAnswer('{"type":"DATA","code":200,"offset":"1"}'), 'badAnswer');
      expectError(parseAnswer('{"type":"DATA","code":503,"retryAfter":"soon"}'), 'badAnswer');
    });
  });

  it('never throws on hostile input', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const pieces = ['FIN', 'ABOR', 'STOR', ':', '{', '}', '"size"', '"id"', '-1', 'null', '[', ']', ',', '"'];
    for (let i = 0; i < 2000; i++) {
      let text = '';
      for (let j = 0; j < 8; j++) text += pieces[Math.floor(rand() * pieces.length)];
      assert.doesNotThrow(() => parseCommand(text));
      assert.doesNotThrow(() => parseAnswer(text));
    }
    assert.doesNotThrow(() => parseStorOffer(Object.create(null) as Record<string, unknown>));
  });
});

import { expect } from '@open-wc/testing';
import {
  DEFAULT_ANSWER_TIMEOUT,
  DEFAULT_AUTH_TIMEOUT,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  WebSocketFileTransfer,
  type WebSocketFileTransferOptions,
} from '../../src/core/index.ts';
import { resolveOptions } from '../../src/core/options.ts';
import { makeFile } from '../helpers/make-file.ts';

const url = 'ws://upload.test/options';
const file = makeFile(10);

function create(options: Record<string, unknown>): () => WebSocketFileTransfer {
  return () =>
    new WebSocketFileTransfer({ url, file, ...options } as unknown as WebSocketFileTransferOptions);
}

describe('WebSocketFileTransfer options', () => {
  describe('defaults', () => {
    it('are base64, 48 KiB chunks, no parameters, 10 s for AUTH and 30 s for other answers', () => {
      const resolved = resolveOptions({ url, file });
      expect(resolved).to.include({
        url,
        file,
        chunkSize: 49152,
        type: 'base64',
        authTimeout: 10_000,
        answerTimeout: 30_000,
      });
      expect(resolved.parameters).to.deep.equal([]);
      expect(resolved.WebSocket).to.equal(undefined);
      expect([DEFAULT_CHUNK_SIZE, DEFAULT_AUTH_TIMEOUT, DEFAULT_ANSWER_TIMEOUT]).to.deep.equal([
        49152, 10_000, 30_000,
      ]);
    });

    it('accept a URL object and keep its text', () => {
      expect(resolveOptions({ url: new URL('ws://upload.test/x'), file }).url).to.equal('ws://upload.test/x');
    });

    it('take chunkSize over blockSize', () => {
      expect(resolveOptions({ url, file, blockSize: 10, chunkSize: 20 }).chunkSize).to.equal(20);
      expect(resolveOptions({ url, file, blockSize: 10 }).chunkSize).to.equal(10);
    });

    it('allow chunks larger than 48 KiB for servers that accept them, up to 16 MiB', () => {
      expect(resolveOptions({ url, file, chunkSize: MAX_CHUNK_SIZE }).chunkSize).to.equal(16 * 1024 * 1024);
    });

    it('start in the idle state without connecting', () => {
      expect(create({})().state).to.equal('idle');
    });
  });

  describe('validation', () => {
    const cases: [string, Record<string, unknown>, typeof TypeError | typeof RangeError, RegExp][] = [
      ['a missing url', { url: undefined }, TypeError, /"url"/],
      ['an empty url', { url: '' }, TypeError, /"url"/],
      ['a file that is not a Blob', { file: 'a.txt' }, TypeError, /"file"/],
      ['a missing file', { file: undefined }, TypeError, /"file"/],
      ['a chunkSize that is not a number', { chunkSize: '1024' }, TypeError, /"chunkSize"/],
      ['a chunkSize of 0', { chunkSize: 0 }, RangeError, /"chunkSize"/],
      ['a fractional chunkSize', { chunkSize: 10.5 }, RangeError, /"chunkSize"/],
      ['a chunkSize above 16 MiB', { chunkSize: MAX_CHUNK_SIZE + 1 }, RangeError, /"chunkSize"/],
      ['a NaN blockSize', { blockSize: NaN }, TypeError, /"blockSize"/],
      ['a negative blockSize', { blockSize: -1 }, RangeError, /"blockSize"/],
      ['an unknown type', { type: 'hex' }, TypeError, /"type"/],
      ['parameters that JSON cannot hold', { parameters: { big: 1n } }, TypeError, /"parameters"/],
      ['an authTimeout of 0', { authTimeout: 0 }, RangeError, /"authTimeout"/],
      ['an infinite answerTimeout', { answerTimeout: Infinity }, RangeError, /"answerTimeout"/],
      ['a string answerTimeout', { answerTimeout: '5' }, TypeError, /"answerTimeout"/],
      ['a WebSocket that is not a constructor', { WebSocket: {} }, TypeError, /"WebSocket"/],
      ['a progress callback that is not a function', { progress: 'update' }, TypeError, /"progress"/],
      ['an error callback that is not a function', { error: 1 }, TypeError, /"error"/],
    ];
    for (const [what, options, ErrorClass, message] of cases) {
      it(`rejects ${what} with a ${ErrorClass.name} naming the option`, () => {
        expect(create(options)).to.throw(ErrorClass, message);
      });
    }

    it('rejects options that are not an object', () => {
      expect(() => new WebSocketFileTransfer(null as unknown as WebSocketFileTransferOptions)).to.throw(
        TypeError,
      );
    });
  });
});

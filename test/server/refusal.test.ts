// The refusal type, without a socket: each carries its wire code, message and the close code from the
// protocol's table; an answer-only refusal has no close code; the answer's bytes are what the wire carried.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeCodeFor, CloseCode, formatAnswer, Status } from '../../src/protocol/index.ts';
import { storageFailure } from '../../src/server/limits.ts';
import { Refusal } from '../../src/server/refusal.ts';

describe('Refusal', () => {
  it('takes its close code from the protocol table, wire code by wire code (docs/protocol.md §5)', () => {
    const expected: [number, number][] = [
      [Status.badRequest, 1002],
      [Status.unauthorized, 1008],
      [Status.forbidden, 1008],
      [Status.conflict, 1013],
      [Status.tooLarge, 1009],
      [Status.checksumMismatch, 1007],
      [Status.tooMany, 1013],
      [Status.serverError, 1011],
      [Status.unavailable, 1013],
      [Status.insufficientStorage, 1011],
    ];
    for (const [code, close] of expected) {
      assert.equal(new Refusal('STOR', code, 'no').closeCode, close, `close code for ${code}`);
      assert.equal(closeCodeFor(code), close);
    }
  });

  it('closes with 1008 (policy) for a wire code the table does not name', () => {
    assert.equal(new Refusal('STOR', 418, 'teapot').closeCode, CloseCode.policy);
    assert.equal(closeCodeFor(404), 1008);
  });

  it('has no close code when the connection stays open for the next command', () => {
    const refusal = new Refusal('STOR', Status.notFound, 'Unknown or expired upload id.', { keepOpen: true });
    assert.equal(refusal.closeCode, null);
    assert.equal(
      formatAnswer(refusal.answer()),
      '{"type":"STOR","code":404,"message":"Unknown or expired upload id."}',
    );
  });

  it('puts retryAfter in the answer only when it has one', () => {
    const held = new Refusal('STOR', Status.conflict, 'held', { retryAfter: 1000 });
    assert.equal(
      formatAnswer(held.answer()),
      '{"type":"STOR","code":409,"message":"held","retryAfter":1000}',
    );
    assert.equal(
      formatAnswer(new Refusal('DATA', 400, 'bad').answer()),
      '{"type":"DATA","code":400,"message":"bad"}',
    );
  });

  it('keeps the partial upload unless told to discard it', () => {
    assert.equal(new Refusal('DATA', 500, 'x').discard, false);
    assert.equal(new Refusal('FIN', 422, 'x', { discard: true }).discard, true);
  });

  it('wraps a limit, the admission or a storage failure with its retryAfter', () => {
    const limit = Refusal.of('STOR', {
      code: 429,
      message: 'Too many uploads in progress.',
      retryAfter: 5000,
    });
    assert.deepEqual(
      [limit.answerType, limit.code, limit.message, limit.retryAfter, limit.closeCode],
      ['STOR', 429, 'Too many uploads in progress.', 5000, 1013],
    );
    const full = Refusal.of('DATA', storageFailure(Object.assign(new Error('x'), { code: 'ENOSPC' })));
    assert.deepEqual([full.code, full.message, full.closeCode], [507, 'Storage full (ENOSPC).', 1011]);
    const broken = Refusal.of('STOR', storageFailure(new Error('boom')));
    assert.deepEqual([broken.code, broken.message], [500, 'Storage failed.']);
  });

  it('cuts the close reason to fit a close frame (123 bytes), the answer keeps the whole message', () => {
    const long = new Refusal('STOR', 400, 'x'.repeat(300));
    assert.equal(long.closeReason.length, 120);
    assert.equal(long.answer().message, 'x'.repeat(300));
  });
});

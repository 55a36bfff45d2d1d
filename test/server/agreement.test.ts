// The server's agreements, without a socket: v1 is the smallest set of terms and answers as the 2012 server
// did, byte for byte; v2 grants through the protocol's grantTerms once and reads the grant back as terms;
// a resume of a stored upload gets a FIN-only grant from the same function.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatAnswer, grantTerms, readOffer, V1_TERMS, type StorOffer } from '../../src/protocol/index.ts';
import { finAnswer, storedAnswer, v1Agreement, v2Agreement } from '../../src/server/agreement.ts';

const EXPIRES_AT = Date.UTC(2030, 0, 2, 3, 4, 5);
const POLICY = { maxWindow: 8, maxChunk: 1024 * 1024, expiresAt: EXPIRES_AT };

function offer(ext: Record<string, unknown>): StorOffer {
  const read = readOffer(ext);
  if (!read.ok) assert.fail(read.error.message);
  return read.value;
}

describe('v1 agreement', () => {
  it('has the v1 terms: stop-and-wait, no chunk limit, no FIN, no checksum, not resumable', () => {
    assert.deepEqual(v1Agreement('base64').terms, V1_TERMS);
    assert.deepEqual(v1Agreement('binary').terms, { ...V1_TERMS, encoding: 'binary' });
  });

  it('answers STOR and DATA exactly as the 2012 server did', () => {
    const agreement = v1Agreement('base64');
    assert.equal(
      formatAnswer(agreement.accepted('ignored', 0)),
      '{"type":"STOR","code":200,"message":"Upload initialized. Wait for data"}',
    );
    assert.equal(formatAnswer(agreement.ack(512, 1024)), '{"type":"DATA","code":200,"bytesRead":512}');
    assert.equal(agreement.emptyFrameForEmptyFile, true);
  });
});

describe('v2 agreement', () => {
  const offered = offer({ binary: true, window: 32, chunk: 65536, checksum: ['sha256'], fin: true });

  it('grants through grantTerms: the smaller window, the server chunk, the offered checksum and FIN', () => {
    const agreement = v2Agreement(offered, POLICY);
    const answer = agreement.accepted('u_abc', 100);
    assert.deepEqual(answer.ext, grantTerms(offered, POLICY));
    assert.equal(
      formatAnswer(answer),
      '{"type":"STOR","code":200,"message":"Upload initialized. Wait for data","v":2,"id":"u_abc","offset":100,' +
        '"ext":{"binary":true,"window":8,"maxChunk":1048576,"checksum":"sha256","fin":true,' +
        '"expires":"2030-01-02T03:04:05.000Z"}}',
    );
  });

  it('reads the grant back as the terms the session enforces', () => {
    assert.deepEqual(v2Agreement(offered, POLICY).terms, {
      version: 2,
      encoding: 'binary',
      window: 8,
      maxChunk: 1024 * 1024,
      integrity: 'sha256',
      block: 0,
      fin: true,
      resumable: true,
      expires: EXPIRES_AT,
      credit: null,
      hold: 0,
      reuse: false,
      alive: null,
      early: false,
      coalesce: 0,
    });
  });

  it('takes base64 text frames when binary was not offered, and no FIN or checksum when not offered', () => {
    const terms = v2Agreement(offer({ window: 2 }), POLICY).terms;
    assert.deepEqual([terms.encoding, terms.window, terms.fin, terms.integrity], ['base64', 2, false, null]);
  });

  it('acks with the offset the server holds', () => {
    const ack = v2Agreement(offered, POLICY).ack(65536, 131072);
    assert.equal(formatAnswer(ack), '{"type":"DATA","code":200,"bytesRead":65536,"offset":131072}');
    assert.equal(v2Agreement(offered, POLICY).emptyFrameForEmptyFile, false);
  });
});

describe('a resume of a stored upload', () => {
  const record = { size: 10, filename: 'a.txt', checksum: 'sha256:x', owner: null, expiresAt: EXPIRES_AT };

  it('grants FIN only: binary, FIN, the checksum it was stored with, the record expiry', () => {
    const answer = storedAnswer('u_abc', record, offer({ window: 64 }), POLICY);
    assert.equal(
      formatAnswer(answer),
      '{"type":"STOR","code":200,"message":"Upload already stored. Send FIN","v":2,"id":"u_abc","offset":10,' +
        '"ext":{"binary":true,"window":8,"maxChunk":1048576,"checksum":"sha256","fin":true,' +
        '"expires":"2030-01-02T03:04:05.000Z"}}',
    );
    const unchecked = storedAnswer('u_abc', { ...record, checksum: undefined }, offer({}), POLICY);
    assert.equal((unchecked.ext as { checksum: unknown }).checksum, null);
  });

  it('answers a FIN with the stored name, size and checksum', () => {
    assert.equal(
      formatAnswer(finAnswer('u_abc', record)),
      '{"type":"FIN","code":200,"message":"Stored","id":"u_abc","size":10,"checksum":"sha256:x","filename":"a.txt"}',
    );
    assert.equal(
      formatAnswer(finAnswer('u_abc', { ...record, checksum: undefined })),
      '{"type":"FIN","code":200,"message":"Stored","id":"u_abc","size":10,"filename":"a.txt"}',
    );
  });
});

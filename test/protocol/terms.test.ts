// The negotiation, step by step and without a socket: a client builds an offer, it crosses the wire as
// STOR's ext, the server reads and grants, the grant crosses back as the STOR answer, the client reads the
// terms it sends under. Wire text is compared literally: the bytes must not change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  agreedTerms,
  ALIVE_MESSAGE,
  isAliveMessage,
  buildOffer,
  formatAnswer,
  formatStor,
  grantTerms,
  offerExt,
  parseAnswer,
  parseCommand,
  parseStorAnswer,
  parseStorOffer,
  readCredit,
  readGrant,
  readOffer,
  v1Terms,
  V1_TERMS,
  type GrantPolicy,
  type ParseResult,
  type StorCommand,
  type StorOffer,
} from '../../src/protocol/index.ts';

function expectOk<T>(result: ParseResult<T>): T {
  if (!result.ok) assert.fail(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

const EXPIRES_AT = Date.UTC(2030, 0, 2, 3, 4, 5);
const POLICY = { maxWindow: 16, maxChunk: 4 * 1024 * 1024, expiresAt: EXPIRES_AT };

describe('negotiated terms', () => {
  describe('v1', () => {
    it('is the smallest set of terms: stop-and-wait, no checksum, no FIN, no resume, no expiry', () => {
      assert.deepEqual(
        { ...V1_TERMS },
        {
          version: 1,
          encoding: 'base64',
          window: 1,
          maxChunk: Number.POSITIVE_INFINITY,
          integrity: null,
          block: 0,
          fin: false,
          resumable: false,
          expires: null,
          credit: null,
          hold: 0,
          reuse: false,
          alive: null,
          early: false,
          coalesce: 0,
        },
      );
      assert.ok(Object.isFrozen(V1_TERMS));
    });
    it('keeps the encoding a v1 STOR announced', () => {
      assert.equal(v1Terms('base64'), V1_TERMS);
      assert.deepEqual({ ...v1Terms('binary') }, { ...V1_TERMS, encoding: 'binary' });
    });
    it('is what a STOR answer without "v" means', () => {
      assert.equal(expectOk(readGrant({ type: 'STOR', code: 200, message: 'ok' })), null);
      assert.equal(expectOk(readGrant({ type: 'STOR', code: 200, v: 1 })), null);
    });
  });

  describe('step 1: the client builds an offer', () => {
    it('always offers binary and FIN; window, chunk, resume and checksum as wished', () => {
      const offer = buildOffer({
        window: 8,
        chunk: 1 << 20,
        resume: null,
        checksum: true,
        mime: 'text/plain',
      });
      assert.deepEqual(offer, {
        binary: true,
        window: 8,
        chunk: 1 << 20,
        resume: null,
        checksum: ['sha256-blocks'],
        fin: true,
        credit: true,
        alive: true,
        early: 0,
        coalesce: 4 * 1024 * 1024,
        mime: 'text/plain',
        block: 4 * 1024 * 1024,
      });
      assert.deepEqual(
        buildOffer({ window: 1, chunk: 1, resume: 'u_1', checksum: false, mime: '' }).checksum,
        [],
      );
    });
    it('puts lastModified in only when the file has one', () => {
      const base = { window: 1, chunk: 1, resume: null, checksum: false, mime: '' };
      assert.equal('lastModified' in buildOffer(base), false);
      assert.equal(buildOffer({ ...base, lastModified: 5 }).lastModified, 5);
    });
  });

  describe('step 2: the offer on the wire', () => {
    it("is STOR's ext with its fields in wire order", () => {
      const offer = buildOffer({
        window: 8,
        chunk: 1048576,
        resume: 'u_abc',
        checksum: true,
        mime: 'image/png',
        lastModified: 1700000000000,
      });
      const text = formatStor({
        filename: 'a.png',
        size: 10,
        type: 'base64',
        parameters: [],
        v: 2,
        ext: offerExt(offer),
      });
      assert.equal(
        text,
        'STOR: {"filename":"a.png","size":10,"type":"base64","parameters":[],"v":2,"ext":{"binary":true,' +
          '"window":8,"chunk":1048576,"resume":"u_abc","checksum":["sha256-blocks"],"block":4194304,"fin":true,' +
          '"credit":true,"alive":true,"early":0,"coalesce":4194304,"mime":"image/png",' +
          '"lastModified":1700000000000}}',
      );
    });
  });

  describe('step 3: the server reads the offer', () => {
    it('reads back what the client offered', () => {
      const offer = buildOffer({ window: 4, chunk: 65536, resume: 'u_x', checksum: true, mime: 'a/b' });
      const stor = expectOk(
        parseCommand(
          formatStor({ filename: 'f', size: 1, type: 'base64', parameters: [], v: 2, ext: offerExt(offer) }),
        ),
      ) as StorCommand;
      assert.deepEqual(expectOk(readOffer(stor.ext!)), offer);
    });
    it('takes absent fields as not offered, and keeps the old name working', () => {
      const nothing = { binary: false, window: 1, chunk: 0, resume: null, checksum: [], fin: false };
      assert.deepEqual(expectOk(readOffer({})), nothing);
      assert.equal(parseStorOffer, readOffer);
      assert.equal(parseStorAnswer, readGrant);
    });
    it('refuses a resume id that could reach a path', () => {
      const result = readOffer({ resume: '../x' });
      assert.equal(result.ok, false);
    });
  });

  describe('step 4: the server grants', () => {
    it('takes binary, checksum and FIN as offered; narrows the window; sets its own largest chunk', () => {
      const offer = expectOk(
        readOffer({ binary: true, window: 64, chunk: 1 << 24, checksum: ['md5', 'sha256'], fin: true }),
      );
      assert.deepEqual(grantTerms(offer, POLICY), {
        binary: true,
        window: 16,
        maxChunk: 4 * 1024 * 1024,
        checksum: 'sha256',
        fin: true,
        expires: '2030-01-02T03:04:05.000Z',
      });
    });
    it('grants nothing that was not offered', () => {
      const grant = grantTerms(expectOk(readOffer({})), POLICY);
      assert.equal(grant.binary, false);
      assert.equal(grant.window, 1);
      assert.equal(grant.checksum, null);
      assert.equal(grant.fin, false);
    });
    it("keeps the window a whole number of at least one, whatever the server's limit", () => {
      const offer = expectOk(readOffer({ window: 8 }));
      assert.equal(grantTerms(offer, { ...POLICY, maxWindow: 0.5 }).window, 1);
      assert.equal(grantTerms(offer, { ...POLICY, maxWindow: 2.5 }).window, 2);
    });
  });

  describe('step 5: the grant on the wire', () => {
    it("is the STOR answer's ext, fields in wire order", () => {
      const grant = grantTerms(expectOk(readOffer({ binary: true, window: 2, fin: true })), POLICY);
      const text = formatAnswer({
        type: 'STOR',
        code: 200,
        message: 'm',
        v: 2,
        id: 'u_1',
        offset: 0,
        ext: grant,
      });
      assert.equal(
        text,
        '{"type":"STOR","code":200,"message":"m","v":2,"id":"u_1","offset":0,"ext":{"binary":true,' +
          '"window":2,"maxChunk":4194304,"checksum":null,"fin":true,"expires":"2030-01-02T03:04:05.000Z"}}',
      );
    });
  });

  describe('step 6: the client reads the grant', () => {
    const offer = buildOffer({ window: 8, chunk: 1 << 20, resume: null, checksum: true, mime: '' });
    const grant = grantTerms(offer, { ...POLICY, maxWindow: 4, blocks: true });
    const answer = expectOk(
      parseAnswer(formatAnswer({ type: 'STOR', code: 200, v: 2, id: 'u_9', offset: 12, ext: grant })),
    );

    it('reads id, offset and the grant back unchanged', () => {
      assert.deepEqual(expectOk(readGrant(answer)), { v: 2, id: 'u_9', offset: 12, ext: grant });
    });
    it('turns the grant into the terms it sends under', () => {
      const terms = agreedTerms(expectOk(readGrant(answer))!, { window: 8, encoding: 'base64' });
      assert.deepEqual(
        { ...terms },
        {
          version: 2,
          encoding: 'binary',
          window: 4,
          maxChunk: 4 * 1024 * 1024,
          integrity: 'sha256-blocks',
          block: 4 * 1024 * 1024,
          fin: true,
          resumable: true,
          expires: EXPIRES_AT,
          credit: null,
          hold: 0,
          reuse: false,
          alive: null,
          early: false,
          coalesce: 0,
        },
      );
    });
    it('never widens what the client asked for, and falls back to its encoding', () => {
      const stored = { v: 2, id: 'u', offset: 0, ext: { ...grant, binary: false, window: 32, expires: '' } };
      const terms = agreedTerms(stored, { window: 3, encoding: 'base64' });
      assert.equal(terms.window, 3);
      assert.equal(terms.encoding, 'base64');
      assert.equal(terms.expires, null);
    });
    it('refuses half a negotiation', () => {
      for (const broken of [
        { ...answer, id: undefined },
        { ...answer, offset: -1 },
        { ...answer, ext: { ...grant, window: 0 } },
        { ...answer, ext: { ...grant, checksum: 'md5' } },
        { ...answer, ext: null },
        { ...answer, v: 'two' },
      ]) {
        const result = readGrant(broken);
        assert.equal(result.ok, false, JSON.stringify(broken));
        if (!result.ok) assert.equal(result.error.code, 'badAnswer');
      }
    });
  });

  describe('keep-alive messages (alive)', () => {
    const wish = { window: 16, chunk: 1 << 18, resume: null, checksum: false, mime: '' };
    const answerOf = (ext: object) => ({ type: 'STOR' as const, code: 200, v: 2, id: 'u_1', offset: 0, ext });

    it('is asked for by default, and read back from the offer; a wrong type is refused', () => {
      assert.equal(buildOffer(wish).alive, true);
      assert.equal('alive' in buildOffer({ ...wish, alive: false }), false);
      assert.equal(expectOk(readOffer(offerExt(buildOffer(wish)))).alive, true);
      const read = readOffer({ alive: 5000 });
      assert.equal(read.ok ? 'ok' : read.error.code, 'badField');
    });

    it("is granted with the server's period only when asked, and becomes the terms' alive", () => {
      const granted = grantTerms(buildOffer(wish), { ...POLICY, alive: 5000 });
      assert.equal(granted.alive, 5000);
      const terms = agreedTerms(expectOk(readGrant(answerOf(granted)))!, { window: 16, encoding: 'base64' });
      assert.equal(terms.alive, 5000);
      const unasked = grantTerms(buildOffer({ ...wish, alive: false }), { ...POLICY, alive: 5000 });
      assert.equal('alive' in unasked, false, 'a client that did not ask sees no new field');
      const older = grantTerms(expectOk(readOffer({ binary: true, window: 4, fin: true })), {
        ...POLICY,
        alive: 5000,
      });
      assert.equal('alive' in older, false, 'an older client gets no unsolicited message');
      const none = grantTerms(buildOffer(wish), POLICY);
      const noneTerms = agreedTerms(expectOk(readGrant(answerOf(none)))!, { window: 16, encoding: 'base64' });
      assert.equal(noneTerms.alive, null, 'a server that does not send them: nothing is watched');
    });

    it('the message is a plain answer of type ALIVE, told apart from every other frame', () => {
      assert.deepEqual(expectOk(parseAnswer(ALIVE_MESSAGE)), { type: 'ALIVE', code: 200 });
      assert.equal(isAliveMessage(ALIVE_MESSAGE), true);
      assert.equal(isAliveMessage(' { "type" : "ALIVE", "code": 200, "later": 1 }'), true);
      for (const other of [
        formatAnswer({ type: 'DATA', code: 200, bytesRead: 1, offset: 1 }),
        '{"code":200,"type":"ALIVE"}'.replace('ALIVE', 'STOR'),
        new ArrayBuffer(8),
        `{"type":"ALIVE"${' '.repeat(300)}}`,
      ]) {
        assert.equal(isAliveMessage(other), false, String(other).slice(0, 40));
      }
    });

    it('refuses a grant whose alive is not a positive integer', () => {
      const grant = grantTerms(buildOffer(wish), POLICY);
      for (const alive of [0, -5, 1.5, '5000', true]) {
        const read = readGrant(answerOf({ ...grant, alive }));
        assert.equal(read.ok ? 'ok' : read.error.code, 'badAnswer', JSON.stringify(alive));
      }
    });
  });

  describe('byte credit and connection reuse', () => {
    const wish = { window: 16, chunk: 1 << 18, resume: null, checksum: false, mime: '' };
    const policy = { ...POLICY, credit: 64 << 20, reuse: true };

    it('offers a credit by default and reuse only when asked; reads both back, refusing wrong types', () => {
      const offer = buildOffer({ ...wish, reuse: true });
      assert.deepEqual([offer.credit, offer.reuse], [true, true]);
      assert.equal('credit' in buildOffer({ ...wish, credit: false }), false);
      assert.equal('reuse' in buildOffer(wish), false);
      assert.deepEqual(expectOk(readOffer(offerExt(offer))), { ...offer, mime: '' });
      for (const field of ['credit', 'reuse']) {
        const read = readOffer({ [field]: 1 });
        assert.equal(read.ok ? 'ok' : read.error.code, 'badField');
      }
    });

    it('grants them only when both sides want them, and reuse only with FIN', () => {
      const both = grantTerms(buildOffer({ ...wish, reuse: true }), policy);
      assert.deepEqual([both.credit, both.reuse], [64 << 20, true]);
      const old = grantTerms(expectOk(readOffer({ binary: true, window: 16, fin: true })), policy);
      assert.deepEqual(
        ['credit' in old, 'reuse' in old],
        [false, false],
        'an older client sees no new field',
      );
      const serverSaysNo = grantTerms(buildOffer({ ...wish, reuse: true }), POLICY);
      assert.deepEqual(['credit' in serverSaysNo, 'reuse' in serverSaysNo], [false, false]);
      const noFin = grantTerms({ ...buildOffer({ ...wish, reuse: true }), fin: false }, policy);
      assert.equal('reuse' in noFin, false);
    });

    it('turns the grant into terms: a credit in bytes, reuse when the client offered it', () => {
      const grant = grantTerms(buildOffer({ ...wish, reuse: true }), policy);
      const stored = expectOk(
        readGrant(
          expectOk(
            parseAnswer(formatAnswer({ type: 'STOR', code: 200, v: 2, id: 'u_1', offset: 0, ext: grant })),
          ),
        ),
      )!;
      const terms = agreedTerms(stored, { window: 16, encoding: 'base64', reuse: true });
      assert.deepEqual([terms.credit, terms.reuse], [64 << 20, true]);
      const declined = agreedTerms(stored, { window: 16, encoding: 'base64', credit: false });
      assert.deepEqual([declined.credit, declined.reuse], [null, false]);
    });

    it('grants early data only when offered (any count, even 0) with binary and FIN; reads it back', () => {
      const withEarly = { ...policy, early: true };
      const granted = grantTerms(buildOffer(wish), withEarly);
      assert.equal(granted.early, true);
      assert.equal('early' in grantTerms(expectOk(readOffer({ binary: true, fin: true })), withEarly), false);
      assert.equal('early' in grantTerms(buildOffer(wish), POLICY), false, 'a server that does not take it');
      assert.equal('early' in grantTerms({ ...buildOffer(wish), binary: false }, withEarly), false);
      for (const early of [-1, 1.5, 'all']) {
        const read = readOffer({ early });
        assert.equal(read.ok ? 'ok' : read.error.code, 'badField', String(early));
      }
      const answer = { type: 'STOR', code: 200, v: 2, id: 'u_1', offset: 0 } as const;
      const stored = expectOk(readGrant({ ...answer, ext: granted }))!;
      assert.equal(agreedTerms(stored, { window: 16, encoding: 'base64' }).early, true);
      assert.equal(readGrant({ ...answer, ext: { ...granted, early: 'yes' } }).ok, false);
    });

    it('grants hold (bytes acks may be held back for) only with a credit, and the terms carry it', () => {
      const holding = { ...policy, hold: 25 << 20 };
      const granted = grantTerms(buildOffer(wish), holding);
      assert.deepEqual([granted.credit, granted.hold], [64 << 20, 25 << 20]);
      assert.equal('hold' in grantTerms(buildOffer({ ...wish, credit: false }), holding), false, 'no credit');
      assert.equal('hold' in grantTerms(buildOffer(wish), policy), false, 'a store that acks every chunk');
      const answer = { type: 'STOR', code: 200, v: 2, id: 'u_1', offset: 0 } as const;
      const stored = expectOk(readGrant({ ...answer, ext: granted }))!;
      assert.equal(agreedTerms(stored, { window: 16, encoding: 'binary' }).hold, 25 << 20);
      assert.equal(agreedTerms(stored, { window: 16, encoding: 'binary', credit: false }).hold, 0);
      for (const hold of [0, -1, 1.5, '5']) {
        const read = readGrant({ ...answer, ext: { ...granted, hold } });
        assert.equal(read.ok ? 'ok' : read.error.code, 'badAnswer', String(hold));
      }
    });

    it('refuses a malformed credit or reuse in the grant, and reads an ack credit leniently', () => {
      const grant = grantTerms(buildOffer(wish), POLICY);
      for (const ext of [
        { ...grant, credit: 0 },
        { ...grant, credit: 1.5 },
        { ...grant, reuse: 'yes' },
      ]) {
        const read = readGrant({ type: 'STOR', code: 200, v: 2, id: 'u_1', offset: 0, ext });
        assert.equal(read.ok ? 'ok' : read.error.code, 'badAnswer');
      }
      assert.deepEqual(
        [readCredit(1024), readCredit(0), readCredit('5'), readCredit(undefined), readCredit(2.5)],
        [1024, null, null, null, null],
      );
    });
  });

  describe('acks that cover several chunks (coalesce)', () => {
    const MiB = 1024 * 1024;
    const wish = { window: 16, chunk: MiB, resume: null, checksum: true, mime: '' };
    const terms = (offer: StorOffer, policy: GrantPolicy) =>
      agreedTerms(
        { v: 2, id: 'u_1', offset: 0, ext: grantTerms(offer, policy) },
        { window: 16, encoding: 'base64' },
      );

    it('is offered as one block by default, and not at all with coalesce 0', () => {
      assert.equal(buildOffer(wish).coalesce, 4 * MiB);
      assert.equal('coalesce' in buildOffer({ ...wish, coalesce: 0 }), false);
      assert.equal(expectOk(readOffer(offerExt(buildOffer(wish)))).coalesce, 4 * MiB);
    });
    it('grants the smaller of the two sides, at most half of what the client may keep in flight', () => {
      const offer = buildOffer(wish);
      assert.equal(terms(offer, { ...POLICY, coalesce: 16 * MiB }).coalesce, 4 * MiB);
      assert.equal(terms(offer, { ...POLICY, coalesce: 2 * MiB }).coalesce, 2 * MiB);
      // A credit of 6 MiB: acks at least every 3 MiB keep the client sending; a larger one changes nothing.
      assert.equal(terms(offer, { ...POLICY, coalesce: 16 * MiB, credit: 6 * MiB }).coalesce, 3 * MiB);
      assert.equal(terms(offer, { ...POLICY, coalesce: 16 * MiB, credit: 64 * MiB }).coalesce, 4 * MiB);
      // A window of 4 chunks of 128 KiB under a large credit: every 256 KiB.
      const small = { ...offer, window: 4, chunk: 128 * 1024 };
      assert.equal(terms(small, { ...POLICY, coalesce: 16 * MiB, credit: 64 * MiB }).coalesce, 256 * 1024);
      // A window of 4 chunks of 1 MiB: every 2 MiB.
      assert.equal(terms({ ...offer, window: 4 }, { ...POLICY, coalesce: 16 * MiB }).coalesce, 2 * MiB);
    });
    it('is not granted when not offered, not allowed, or under two chunks', () => {
      const offer = buildOffer(wish);
      assert.equal(
        terms(buildOffer({ ...wish, coalesce: 0 }), { ...POLICY, coalesce: 16 * MiB }).coalesce,
        0,
      );
      assert.equal(terms(offer, POLICY).coalesce, 0);
      assert.equal(terms({ ...offer, window: 3 }, { ...POLICY, coalesce: 16 * MiB }).coalesce, 0);
      assert.equal('coalesce' in grantTerms(offer, POLICY), false);
    });
    it('is dropped by a client that did not offer it, and refused when malformed', () => {
      const grant = grantTerms(buildOffer(wish), { ...POLICY, coalesce: 16 * MiB });
      const stored = { v: 2, id: 'u_1', offset: 0, ext: grant };
      assert.equal(agreedTerms(stored, { window: 16, encoding: 'base64', coalesce: false }).coalesce, 0);
      for (const coalesce of [0, 1.5, '4194304']) {
        const read = readGrant({ type: 'STOR', code: 200, ...stored, ext: { ...grant, coalesce } });
        assert.equal(read.ok ? 'ok' : read.error.code, 'badAnswer');
      }
      assert.equal(readOffer({ coalesce: -1 }).ok, false);
    });
  });
});

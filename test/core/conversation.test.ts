// The client's frames and its reading of answers, step by step and without a socket.
import { ConnectionPool } from '../../src/core/connection-pool.ts';
import { expect } from '@open-wc/testing';
import { resolveOptions } from '../../src/core/options.ts';
import {
  ackFailure,
  connectionFailure,
  readAnswer,
  readStorAnswer,
  refusalFailure,
  storedFile,
  storFrame,
  timeoutFailure,
} from '../../src/core/conversation.ts';

const file = new File(['hello'], 'a.txt', { type: 'text/plain', lastModified: 1700000000000 });
const url = 'ws://upload.test/x';

describe('conversation', () => {
  describe('storFrame', () => {
    it('is the 2012 STOR byte for byte without offerV2', () => {
      const options = resolveOptions({ url, file, offerV2: false, resumeStore: null });
      expect(storFrame(options, null, false)).to.equal(
        'STOR: {"filename":"a.txt","size":5,"type":"base64","parameters":[]}',
      );
    });
    it('carries the v2 offer in ext, with the resume id', () => {
      const options = resolveOptions({ url, file, resumeStore: null });
      expect(storFrame(options, 'u_1', true)).to.equal(
        'STOR: {"filename":"a.txt","size":5,"type":"base64","parameters":[],"v":2,"ext":{"binary":true,' +
          '"window":16,"chunk":1048576,"resume":"u_1","checksum":["sha256-blocks"],"block":4194304,' +
          '"fin":true,"credit":true,"alive":true,"early":0,"coalesce":4194304,"mime":"text/plain",' +
          '"lastModified":1700000000000}}',
      );
    });
    it('announces the bytes of early data that follow it (0: none, but asks for the grant)', () => {
      const options = resolveOptions({ url, file, resumeStore: null });
      expect(storFrame(options, null, false, 5)).to.contain('"early":5,');
      expect(storFrame(options, null, false)).to.contain('"early":0,');
      expect(storFrame(resolveOptions({ url, file, offerV2: false }), null, false)).not.to.contain('early');
    });
    it('offers reuse only when the transfer shares sockets through a pool', () => {
      const pooled = resolveOptions({ url, file, resumeStore: null, connections: new ConnectionPool() });
      expect(storFrame(pooled, null, false)).to.contain(
        '"fin":true,"credit":true,"reuse":true,"alive":true,',
      );
      expect(storFrame(resolveOptions({ url, file, resumeStore: null }), null, false)).not.to.contain(
        'reuse',
      );
    });
    it('names a Blob "blob" and offers no checksum when asked not to', () => {
      const options = resolveOptions({ url, file: new Blob(['x']), checksum: false, resumeStore: null });
      const frame = storFrame(options, null, false);
      expect(frame).to.contain('"filename":"blob"');
      expect(frame).to.contain('"checksum":[]');
      expect(frame).not.to.contain('lastModified');
    });
  });

  describe('readAnswer', () => {
    it('reads the answer that is due', () => {
      const reading = readAnswer('{"type":"DATA","code":200,"bytesRead":5}', 'DATA');
      expect(reading.kind).to.equal('answer');
    });
    it('tells a refusal on the due type or on ERROR', () => {
      expect(readAnswer('{"type":"STOR","code":403,"message":"no"}', 'STOR').kind).to.equal('refusal');
      expect(readAnswer('{"type":"ERROR","code":400}', 'DATA').kind).to.equal('refusal');
    });
    it('ends the upload on binary, junk, unsolicited and wrong-type frames', () => {
      for (const [data, due] of [
        [new ArrayBuffer(1), 'DATA'],
        ['not json', 'DATA'],
        ['{"type":"DATA","code":200}', null],
        ['{"type":"FIN","code":200}', 'DATA'],
      ] as const) {
        const reading = readAnswer(data, due);
        expect(reading.kind).to.equal('invalid');
        if (reading.kind === 'invalid') expect(reading.failure.code).to.equal('badAnswer');
      }
    });
  });

  describe('readStorAnswer', () => {
    const grant = { binary: true, window: 4, maxChunk: 1024, checksum: null, fin: true, expires: '' };
    it('tells v1 from a v2 grant', () => {
      expect(readStorAnswer({ type: 'STOR', code: 200 }, false, 10)).to.deep.equal({ stored: null });
      const v2 = readStorAnswer({ type: 'STOR', code: 200, v: 2, id: 'u', offset: 3, ext: grant }, true, 10);
      expect(v2).to.deep.equal({ stored: { v: 2, id: 'u', offset: 3, ext: grant } });
    });
    it('refuses a v1 answer to a resume, and an offset beyond the file', () => {
      expect(readStorAnswer({ type: 'STOR', code: 200 }, true, 10)).to.have.property('code', 'badAnswer');
      const beyond = readStorAnswer(
        { type: 'STOR', code: 200, v: 2, id: 'u', offset: 11, ext: grant },
        false,
        10,
      );
      expect(beyond).to.have.property('message', 'The server holds 11 bytes of a 10-byte file.');
    });
  });

  describe('failures', () => {
    it('maps refusals to error codes', () => {
      expect(refusalFailure('AUTH', { type: 'AUTH', code: 401 }).code).to.equal('authRejected');
      expect(refusalFailure('FIN', { type: 'FIN', code: 422 }).code).to.equal('checksumMismatch');
      const refused = refusalFailure('STOR', { type: 'STOR', code: 413 });
      expect([refused.code, refused.message, refused.init.status]).to.deep.equal([
        'serverRefused',
        'The server answered STOR with code 413.',
        413,
      ]);
    });
    it('tells a connection that never opened from one that broke', () => {
      expect(connectionFailure(true, url).code).to.equal('connectionFailed');
      expect(connectionFailure(false, url).code).to.equal('connectionClosed');
      const closed = connectionFailure(false, url, new CloseEvent('close', { code: 1009, reason: 'big' }));
      expect(closed.init.closeCode).to.equal(1009);
      expect(closed.message).to.contain('code 1009: big');
    });
    it('names the answer that did not come, and the offset that was due', () => {
      expect(timeoutFailure('AUTH', 5).code).to.equal('authTimeout');
      expect(timeoutFailure('DATA', 5).message).to.equal('The server did not answer DATA within 5 ms.');
      expect(ackFailure({ type: 'DATA', code: 200, offset: 3 }, 4).message).to.contain('4 was due');
    });
    it('reads the stored file from a FIN answer when it is there', () => {
      expect(storedFile({ type: 'FIN', code: 200, id: 'u', filename: 'a.txt' })).to.deep.equal({
        id: 'u',
        filename: 'a.txt',
      });
      expect(storedFile({ type: 'FIN', code: 200 })).to.equal(null);
    });
  });
});

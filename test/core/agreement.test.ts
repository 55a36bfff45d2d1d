// The agreement of one upload, step by step and without a socket: v1 at first, a grant, a resume record,
// and back to the start when the server forgot the upload.
import { expect } from '@open-wc/testing';
import { V1_TERMS } from '../../src/protocol/index.ts';
import { Agreement } from '../../src/core/agreement.ts';
import { NO_INTEGRITY } from '../../src/core/integrity.ts';
import { fingerprint, type ResumeStore } from '../../src/core/resume-store.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const file = new File(['0123456789'], 'a.bin');
const url = 'ws://upload.test/a';
const grant = {
  binary: true,
  window: 8,
  maxChunk: 4096,
  checksum: 'sha256-blocks' as const,
  block: 65536,
  fin: true,
  expires: '2030-01-01T00:00:00.000Z',
};

function agreement(store: ResumeStore, checksum = true): Agreement {
  return new Agreement({ file, url, resumeStore: store, window: 4, type: 'base64', checksum });
}

describe('Agreement', () => {
  it('starts as v1: no id, no integrity, nothing to resume', () => {
    const it1 = agreement(new MemoryStore());
    expect(it1.terms).to.equal(V1_TERMS);
    expect([it1.uploadId, it1.resumable, it1.integrity]).to.deep.equal([null, false, NO_INTEGRITY]);
    expect(it1.offerResume()).to.equal(null);
  });

  it('takes a grant, narrowed by the window it offered, and writes the record on acknowledgements', () => {
    const store = new MemoryStore();
    const it2 = agreement(store);
    const terms = it2.accept({ v: 2, id: 'u_1', offset: 0, ext: grant });
    expect([terms.window, terms.encoding, terms.integrity, terms.fin]).to.deep.equal([
      4,
      'binary',
      'sha256-blocks',
      true,
    ]);
    expect(it2.integrity).not.to.equal(NO_INTEGRITY);
    expect(it2.unverifiedWarning()).to.equal(null);
    expect(it2.acknowledged(5)).to.equal(true);
    const [record] = [...store.records.values()];
    expect(record).to.include({ id: 'u_1', offset: 5, expires: Date.parse(grant.expires) });
  });

  it("offers the record's id after a reload; the record keeps no hash state", () => {
    const store = new MemoryStore();
    agreement(store).accept({ v: 2, id: 'u_2', offset: 0, ext: grant });
    const first = agreement(store);
    first.accept({ v: 2, id: 'u_2', offset: 0, ext: grant });
    first.save(0);
    const reloaded = agreement(store);
    reloaded.loadRecord(Date.now());
    expect(reloaded.offerResume()).to.equal('u_2');
    expect(reloaded.resumable).to.equal(true);
    expect(Object.keys([...store.records.values()][0]!).sort()).to.deep.equal(['expires', 'id', 'offset']);
  });

  it('warns once when checksum was asked for but nothing was agreed, and not when it was not asked', () => {
    const it5 = agreement(new MemoryStore());
    it5.accept({ v: 2, id: 'u_5', offset: 0, ext: { ...grant, checksum: null } });
    expect(it5.integrity).to.equal(NO_INTEGRITY);
    expect(it5.unverifiedWarning()?.code).to.equal('integrityNotGranted');
    expect(it5.unverifiedWarning()).to.equal(null);
    const noCrypto = new Agreement(
      { file, url, resumeStore: new MemoryStore(), window: 4, type: 'base64', checksum: true },
      null,
    );
    expect(noCrypto.offersIntegrity).to.equal(false);
    expect(noCrypto.unverifiedWarning()?.code).to.equal('integrityUnavailable');
    const notAsked = agreement(new MemoryStore(), false);
    expect([notAsked.offersIntegrity, notAsked.unverifiedWarning()]).to.deep.equal([false, null]);
  });

  it('gives the id of the upload it abandons (for ABOR), and forgets its record', () => {
    const store = new MemoryStore();
    const it6 = agreement(store);
    expect(it6.abandon()).to.equal(null);
    it6.accept({ v: 2, id: 'u_6', offset: 0, ext: grant });
    it6.save(0);
    expect(it6.abandon()).to.equal('u_6');
    expect(store.records.size).to.equal(0);
  });

  it('drops an expired record when it loads', () => {
    const store = new MemoryStore();
    const key = fingerprint(file, url);
    store.set(key, { id: 'u', offset: 0, expires: 1 });
    const it3 = agreement(store);
    it3.loadRecord(Date.now());
    expect(it3.offerResume()).to.equal(null);
    expect(store.records.has(key)).to.equal(false);
  });

  it('acknowledgements under v1 write nothing', () => {
    const store = new MemoryStore();
    expect(agreement(store).acknowledged(5)).to.equal(false);
    expect(store.records.size).to.equal(0);
  });

  it('starts over when the server forgot the upload: v1 terms, no id, record removed', () => {
    const store = new MemoryStore();
    const it4 = agreement(store);
    it4.accept({ v: 2, id: 'u_3', offset: 0, ext: grant });
    it4.save(0);
    it4.startOver();
    expect([it4.terms, it4.uploadId, it4.integrity]).to.deep.equal([V1_TERMS, null, NO_INTEGRITY]);
    expect(store.records.size).to.equal(0);
  });
});

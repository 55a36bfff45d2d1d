// One file's resume record over a store, step by step: read at start (an expired one removed), written
// after acknowledgements with the server's expiry or a default lifetime, forgotten when the upload ends.
import { expect } from '@open-wc/testing';
import { ResumeRecords } from '../../src/core/resume-records.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');

describe('ResumeRecords', () => {
  it('has nothing to resume in an empty store', () => {
    const records = new ResumeRecords(new MemoryStore(), 'key');
    expect(records.load(NOW)).to.equal(null);
    expect(records.current).to.equal(null);
  });

  it('writes the server offset and expiry under its key, and reads them back in a new instance', () => {
    const store = new MemoryStore();
    const records = new ResumeRecords(store, 'file-a');
    records.save('u_1', 4096, NOW + 5000, NOW);
    expect(store.records.get('file-a')).to.deep.equal({ id: 'u_1', offset: 4096, expires: NOW + 5000 });
    expect(new ResumeRecords(store, 'file-a').load(NOW)).to.deep.equal({
      id: 'u_1',
      offset: 4096,
      expires: NOW + 5000,
    });
    // Another file's key sees nothing.
    expect(new ResumeRecords(store, 'file-b').load(NOW)).to.equal(null);
  });

  it('keeps a record an hour when the server named no expiry', () => {
    const records = new ResumeRecords(new MemoryStore(), 'key');
    records.save('u_1', 10, null, NOW);
    expect(records.current?.expires).to.equal(NOW + 60 * 60 * 1000);
  });

  it('removes an expired record when loading it, and keeps one that is still valid', () => {
    const store = new MemoryStore();
    store.set('old', { id: 'u_old', offset: 1, expires: NOW });
    store.set('new', { id: 'u_new', offset: 1, expires: NOW + 1 });
    expect(new ResumeRecords(store, 'old').load(NOW)).to.equal(null);
    expect(store.records.has('old')).to.equal(false);
    expect(new ResumeRecords(store, 'new').load(NOW)?.id).to.equal('u_new');
    expect(store.records.has('new')).to.equal(true);
  });

  it('forgets the record in the store and here', () => {
    const store = new MemoryStore();
    const records = new ResumeRecords(store, 'key');
    records.save('u_1', 10, NOW + 1000, NOW);
    records.forget();
    expect([records.current, store.records.size]).to.deep.equal([null, 0]);
  });
});

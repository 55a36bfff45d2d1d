// Where resume records live, without a socket: records in the page's real localStorage under a prefixed key,
// anything else stored there (garbage, an older or foreign shape) read as no record, a storage that throws
// (quota, privacy mode: a throwing Storage stands in, as a real one cannot be made to throw on cue) never
// failing an upload, and the fingerprint that finds the same file again after a reload.
import { expect } from '@open-wc/testing';
import {
  defaultResumeStore,
  fingerprint,
  LocalResumeStore,
  NullResumeStore,
  type ResumeStore,
} from '../../src/core/resume-store.ts';

const KEY = 'resume-store-test';
const RECORD = { id: 'u_1', offset: 4096, expires: 1_900_000_000_000 };

describe('resume stores', () => {
  afterEach(() => localStorage.removeItem(`ws-file-upload:${KEY}`));

  it('LocalResumeStore keeps a record in localStorage under a prefixed key, and removes it', () => {
    const store = new LocalResumeStore(localStorage);
    expect(store.get(KEY)).to.equal(null);
    store.set(KEY, RECORD);
    expect(JSON.parse(localStorage.getItem(`ws-file-upload:${KEY}`)!)).to.deep.equal(RECORD);
    expect(new LocalResumeStore(localStorage).get(KEY)).to.deep.equal(RECORD);
    store.remove(KEY);
    expect(localStorage.getItem(`ws-file-upload:${KEY}`)).to.equal(null);
  });

  it("reads what is not a record as none, and keeps only the record's fields (an old hashState is dropped)", () => {
    const store = new LocalResumeStore(localStorage);
    for (const text of ['not json', '{"id":1,"offset":2,"expires":3}', '{"id":"u"}', 'null', '[]']) {
      localStorage.setItem(`ws-file-upload:${KEY}`, text);
      expect(store.get(KEY), text).to.equal(null);
    }
    localStorage.setItem(`ws-file-upload:${KEY}`, JSON.stringify({ ...RECORD, hashState: 'old' }));
    expect(store.get(KEY)).to.deep.equal(RECORD);
  });

  it('a storage that throws on every access gives no record and never throws itself', () => {
    const fail = () => {
      throw new DOMException('quota', 'QuotaExceededError');
    };
    const throwing = { getItem: fail, setItem: fail, removeItem: fail } as unknown as Storage;
    const store = new LocalResumeStore(throwing);
    expect(() => store.set(KEY, RECORD)).not.to.throw();
    expect(store.get(KEY)).to.equal(null);
    expect(() => store.remove(KEY)).not.to.throw();
  });

  it("NullResumeStore keeps nothing; the default store is localStorage's here, one instance reused", () => {
    const none: ResumeStore = new NullResumeStore();
    none.set(KEY, RECORD);
    expect(none.get(KEY)).to.equal(null);
    const store = defaultResumeStore();
    expect(store).to.be.instanceOf(LocalResumeStore);
    expect(defaultResumeStore()).to.equal(store);
  });

  it('fingerprint: the same file to the same server matches; another name, size, date or url does not', () => {
    const file = (name: string, body: string, lastModified: number) =>
      new File([body], name, { type: 'text/plain', lastModified });
    const url = 'wss://upload.test/a';
    const same = fingerprint(file('a.txt', 'abc', 1000), url);
    expect(fingerprint(file('a.txt', 'xyz', 1000), url), 'same name, size and date: same file').to.equal(
      same,
    );
    for (const other of [
      fingerprint(file('b.txt', 'abc', 1000), url),
      fingerprint(file('a.txt', 'abcd', 1000), url),
      fingerprint(file('a.txt', 'abc', 2000), url),
      fingerprint(file('a.txt', 'abc', 1000), 'wss://upload.test/b'),
    ])
      expect(other).not.to.equal(same);
    expect(fingerprint(new Blob(['abc']), url)).to.equal(JSON.stringify(['', '', 3, 0, url]));
  });
});

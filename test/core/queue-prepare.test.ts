// The queue's `prepare` hook and token provider, step by step: what a hook's answer becomes (options for the
// file, or a `prepareRefused` error naming why), which failures are worth a fresh token, and the provider
// told `refresh` only on its first ask after a 401.
import { expect } from '@open-wc/testing';
import { UploadError } from '../../src/core/errors.ts';
import { newEntry } from '../../src/core/queue-items.ts';
import { isUnauthorized, runPrepare, tokenSource, type TokenRequest } from '../../src/core/queue-prepare.ts';
import { makeFile } from '../helpers/make-file.ts';

const item = newEntry(1, makeFile(10, 'a.bin'));

describe('runPrepare', () => {
  it('gives no overrides without a hook or when the hook returns nothing', async () => {
    expect(await runPrepare(undefined, item)).to.deep.equal({ ok: true, overrides: {} });
    expect(await runPrepare(() => undefined, item)).to.deep.equal({ ok: true, overrides: {} });
    expect(await runPrepare(async () => null as never, item)).to.deep.equal({ ok: true, overrides: {} });
  });

  it('passes parameters and a token on, and asks the hook with the file and its item', async () => {
    let asked: unknown[] = [];
    const result = await runPrepare(async (file, of) => {
      asked = [file, of];
      return { parameters: { album: 7 }, token: 't-1' };
    }, item);
    expect(result).to.deep.equal({ ok: true, overrides: { parameters: { album: 7 }, token: 't-1' } });
    expect(asked).to.deep.equal([item.file, item]);
  });

  it("refuses the file with the hook's reason, its exception, or a wrong answer", async () => {
    const refused = async (hook: Parameters<typeof runPrepare>[0]) => {
      const result = await runPrepare(hook, item);
      expect(result.ok).to.equal(false);
      if (result.ok) throw new Error('refused');
      expect(result.error.code).to.equal('prepareRefused');
      return result.error.message;
    };
    expect(await refused(() => ({ reject: 'quota exceeded' }))).to.equal('quota exceeded');
    expect(await refused(() => Promise.reject(new Error('offline')))).to.equal('offline');
    expect(await refused(() => 42 as never)).to.match(/must return an object or nothing; it returned number/);
    expect(await refused(() => ({ token: '' }))).to.match(/token that is not a non-empty string/);
  });
});

describe('isUnauthorized', () => {
  it('is true for a 401 on AUTH or STOR only', () => {
    expect(isUnauthorized(new UploadError('authRejected', 'no', { status: 401 }))).to.equal(true);
    expect(isUnauthorized(new UploadError('serverRefused', 'no', { status: 401 }))).to.equal(true);
    expect(isUnauthorized(new UploadError('serverRefused', 'no', { status: 403 }))).to.equal(false);
    expect(isUnauthorized(new UploadError('connectionClosed', 'no', { status: 401 }))).to.equal(false);
  });
});

describe('tokenSource', () => {
  it('asks the provider on every connection, with `refresh` only on the first ask after a 401', async () => {
    const requests: TokenRequest[] = [];
    const provider = (request: TokenRequest) => {
      requests.push(request);
      return `token-${requests.length}`;
    };
    const refreshed = tokenSource(provider, item, true);
    expect([await refreshed(), await refreshed()]).to.deep.equal(['token-1', 'token-2']);
    expect(requests.map((request) => request.refresh)).to.deep.equal([true, false]);
    expect(requests[0]).to.include({ file: item.file, item });
    const fresh = tokenSource(provider, item, false);
    await fresh();
    expect(requests[2]!.refresh).to.equal(false);
  });
});

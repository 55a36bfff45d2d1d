// A transfer's credentials, step by step and without a socket: which AUTH frame goes out on each connection
// (a login, a fixed token, a provider asked every time), and a provider that fails, gives no token or never
// answers ending in `tokenUnavailable` within the time given, never in a hang.
import { expect } from '@open-wc/testing';
import { Credentials } from '../../src/core/credentials.ts';
import { browserEnvironment } from '../../src/core/environment.ts';

const env = browserEnvironment();

describe('Credentials', () => {
  it('sends nothing without a login or token', () => {
    const none = new Credentials(undefined, undefined);
    expect([none.present, none.lastFrame]).to.deep.equal([false, null]);
  });

  it('sends the login (it wins over a token), with an empty password when none is given', async () => {
    const login = new Credentials('ann', undefined, 'ignored');
    expect(login.present).to.equal(true);
    expect(await login.next(env, 100)).to.deep.equal({
      ok: true,
      frame: 'AUTH: {"login":"ann","password":""}',
    });
  });

  it('sends a fixed token as it is, known before any connection', async () => {
    const fixed = new Credentials(null, undefined, 'abc');
    expect(fixed.lastFrame).to.equal('AUTH: {"token":"abc"}');
    expect(await fixed.next(env, 100)).to.deep.equal({ ok: true, frame: 'AUTH: {"token":"abc"}' });
  });

  it('asks a provider on every connection and remembers the last frame', async () => {
    let asked = 0;
    const provider = new Credentials(undefined, undefined, async () => `t${++asked}`);
    expect(provider.lastFrame).to.equal(null);
    expect(await provider.next(env, 100)).to.deep.equal({ ok: true, frame: 'AUTH: {"token":"t1"}' });
    expect(await provider.next(env, 100)).to.deep.equal({ ok: true, frame: 'AUTH: {"token":"t2"}' });
    expect(provider.lastFrame).to.equal('AUTH: {"token":"t2"}');
  });

  it('fails with tokenUnavailable when the provider throws, gives no token, or does not answer in time', async () => {
    const failed = async (provider: () => string | Promise<string>, timeout = 100) => {
      const result = await new Credentials(undefined, undefined, provider).next(env, timeout);
      if (result.ok) throw new Error(`expected a failure, got ${result.frame}`);
      expect(result.failure.code).to.equal('tokenUnavailable');
      return result.failure.message;
    };
    expect(await failed(() => Promise.reject(new Error('signed out')))).to.match(
      /provider failed: signed out/,
    );
    expect(await failed(() => '')).to.match(/it gave no token/);
    expect(await failed(() => 42 as unknown as string)).to.match(/it gave no token/);
    expect(await failed(() => new Promise<string>(() => {}), 30)).to.match(/no token within 30 ms/);
  });
});

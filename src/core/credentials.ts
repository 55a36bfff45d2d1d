/**
 * What a transfer sends with `AUTH` on each connection: a login and password, a fixed token, or a token from
 * a provider. A provider is asked again on every connection (a reconnection included), because tokens expire
 * during long uploads; its answer is bounded in time, so a provider that never settles fails the upload
 * instead of hanging it.
 */
import { formatAuth } from '../protocol/index.ts';
import type { Failure } from './conversation.ts';
import type { TransferEnvironment } from './environment.ts';
import type { TokenProvider } from './options.ts';

/** The `AUTH` frame for this connection, or why there is none. */
export type AuthFrame = { ok: true; frame: string } | { ok: false; failure: Failure };

/** The credentials of one transfer. */
export class Credentials {
  readonly #login: { login: string; password: string } | null;
  readonly #token: string | TokenProvider | undefined;
  /** The last frame sent, for an ABOR on a side connection (which must not wait for a provider). */
  #last: string | null = null;

  /**
   * @param login - a login (wins over the token), or undefined
   * @param password - sent with the login
   * @param token - a token or a token provider, used without a login
   */
  constructor(
    login: string | undefined | null,
    password: string | undefined,
    token?: string | TokenProvider,
  ) {
    this.#login = login !== undefined && login !== null ? { login, password: password ?? '' } : null;
    this.#token = this.#login ? undefined : token;
    if (this.#login) this.#last = formatAuth(this.#login);
    else if (typeof token === 'string') this.#last = formatAuth({ token });
  }

  /** Whether `AUTH` is sent at all. */
  get present(): boolean {
    return this.#login !== null || this.#token !== undefined;
  }

  /** The last `AUTH` frame sent (or the fixed one), null when none is known yet. */
  get lastFrame(): string | null {
    return this.#last;
  }

  /**
   * The `AUTH` frame for a new connection: from a provider, asked now and given `timeout` ms to answer.
   *
   * @param env - the timers
   * @param timeout - how long the provider may take (the transfer's `authTimeout`)
   * @returns the frame, or a `tokenUnavailable` failure
   */
  async next(env: TransferEnvironment, timeout: number): Promise<AuthFrame> {
    const provider = this.#token;
    if (typeof provider !== 'function') return { ok: true, frame: this.#last! };
    let timer: unknown;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = env.setTimeout(() => reject(new Error(`no token within ${timeout} ms`)), timeout);
      });
      const token = await Promise.race([Promise.resolve().then(provider), late]);
      if (typeof token !== 'string' || token === '') throw new TypeError('it gave no token');
      this.#last = formatAuth({ token });
      return { ok: true, frame: this.#last };
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      const message = `The token provider failed: ${reason}.`;
      return { ok: false, failure: { code: 'tokenUnavailable', message, init: { cause } } };
    } finally {
      env.clearTimeout(timer);
    }
  }
}

/**
 * Throttles password and token guessing. Failed authentications (AUTH, and credentials refused at the HTTP
 * upgrade) are counted per client address and per login; past `maxAuthFailures` each further failure blocks
 * that address or login for a delay that doubles each time (`authBackoff` up to `maxAuthBackoff`). While
 * blocked, an attempt is answered 429 with `retryAfter` before any password is hashed, so a guesser costs
 * the server almost nothing and gets a few tries per doubling delay. Attempts still being checked count
 * against the allowance too, so that sending many at once gains nothing. Logins are kept as their SHA-256,
 * and both maps are bounded, so that the bookkeeping cannot be grown without end either.
 */
import { createHash } from 'node:crypto';
import { Status } from '../protocol/index.ts';
import type { RefusalDetail } from './refusal.ts';

/** The limits {@link AuthThrottle} enforces. */
export interface AuthThrottleOptions {
  /** Failures let through before delays start. */
  maxAuthFailures: number;
  /** Milliseconds of the first delay; each further failure doubles it. */
  authBackoff: number;
  /** The longest delay. */
  maxAuthBackoff: number;
}

interface Failures {
  count: number;
  last: number;
  blockedUntil: number;
  /** Attempts let through and not yet decided. */
  pending: number;
}

/** An attempt let through: say how it ended (undefined: not decided, e.g. the client went away). */
export interface AuthAttempt {
  done(accepted: boolean | undefined, now?: number): void;
}

// An address or login without a failure for this long starts afresh.
const FORGET_AFTER = 15 * 60 * 1000;
// Entries per map; past it the least recently failed go first (an attacker rotating logins evicts itself).
const MAX_ENTRIES = 10_000;

export class AuthThrottle {
  readonly #options: AuthThrottleOptions;
  readonly #byAddress = new Map<string, Failures>();
  readonly #byLogin = new Map<string, Failures>();

  /** @param options - the failure allowance and delays */
  constructor(options: AuthThrottleOptions) {
    this.#options = options;
  }

  /**
   * Whether the address or login is blocked now (the check of a request that may carry no credentials).
   *
   * @returns a 429 refusal, or undefined
   */
  blocked(ip: string, login: string | undefined, now = Date.now()): RefusalDetail | undefined {
    const key = login === undefined ? undefined : loginKey(login);
    const until = Math.max(
      this.#byAddress.get(ip)?.blockedUntil ?? 0,
      (key && this.#byLogin.get(key)?.blockedUntil) || 0,
    );
    return until > now ? refusal(until - now) : undefined;
  }

  /** Counts a decided check that did not go through {@link begin}. */
  record(ip: string, login: string | undefined, accepted: boolean, now = Date.now()): void {
    const key = login === undefined ? undefined : loginKey(login);
    if (accepted) {
      // The login's failures are forgiven (the address's stay: it may be guessing others).
      if (key) this.#byLogin.delete(key);
      return;
    }
    this.#count(this.#byAddress, ip, now);
    if (key) this.#count(this.#byLogin, key, now);
  }

  /**
   * Asked before credentials are checked.
   *
   * @returns a refusal (429 with the milliseconds until the block ends), or the attempt to end with `done`
   */
  begin(ip: string, login: string | undefined, now = Date.now()): RefusalDetail | AuthAttempt {
    const key = login === undefined ? undefined : loginKey(login);
    const entries = [
      this.#entry(this.#byAddress, ip, now),
      ...(key ? [this.#entry(this.#byLogin, key, now)] : []),
    ];
    let until = 0;
    for (const entry of entries) {
      if (entry.blockedUntil > now) until = Math.max(until, entry.blockedUntil);
      // Within the allowance as many at once as it has left; past it, one at a time.
      else if (entry.pending >= Math.max(1, this.#options.maxAuthFailures - entry.count)) {
        until = Math.max(until, now + this.#options.authBackoff);
      }
    }
    if (until > now) return refusal(until - now);
    for (const entry of entries) entry.pending += 1;
    let ended = false;
    return {
      done: (accepted, at = Date.now()) => {
        if (ended) return;
        ended = true;
        for (const entry of entries) entry.pending = Math.max(0, entry.pending - 1);
        if (accepted !== undefined) this.record(ip, login, accepted, at);
      },
    };
  }

  #entry(map: Map<string, Failures>, key: string, now: number): Failures {
    const previous = map.get(key);
    if (previous && (now - previous.last < FORGET_AFTER || previous.pending > 0)) return previous;
    const entry = { count: 0, last: now, blockedUntil: 0, pending: 0 };
    map.set(key, entry);
    if (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!);
    return entry;
  }

  #count(map: Map<string, Failures>, key: string, now: number): void {
    const entry = this.#entry(map, key, now);
    entry.count += 1;
    entry.last = now;
    const over = entry.count - this.#options.maxAuthFailures;
    if (over > 0) {
      const delay = Math.min(
        this.#options.maxAuthBackoff,
        this.#options.authBackoff * 2 ** Math.min(over - 1, 30),
      );
      entry.blockedUntil = Math.max(entry.blockedUntil, now + delay);
    }
    // Re-inserted so that the map's order is the order of last failure.
    map.delete(key);
    map.set(key, entry);
    if (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!);
  }
}

function refusal(retryAfter: number): RefusalDetail {
  // The same words whether the login or the address is blocked, and whether the login exists.
  return { code: Status.tooMany, message: 'Too many failed attempts: try again later.', retryAfter };
}

function loginKey(login: string): string {
  return createHash('sha256').update(login, 'utf8').digest('base64url');
}

/**
 * The access decision at the HTTP upgrade, before the WebSocket opens: the `authorizeUpgrade` hook, behind
 * the authentication throttle. A client blocked for failed attempts gets 429 and `Retry-After` before its
 * credentials are looked at; credentials the hook refuses count as a failed attempt for the address (and
 * the login of an HTTP Basic header).
 */
import type { IncomingMessage } from 'node:http';
import { basicCredentials } from './access.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { RefusalError } from './refusal.ts';
import type { ResolvedOptions } from './options.ts';

/** Let in (under `user`, `''` for none, undefined when AUTH is still to decide), or the HTTP refusal. */
export type UpgradeAccess =
  { ok: true; user: string | undefined } | { ok: false; status: number; reason: string; retryAfter?: number };

/**
 * Decides an upgrade request.
 *
 * @param ip - the client address (after trusted proxies)
 */
export async function decideUpgrade(
  options: ResolvedOptions,
  throttle: AuthThrottle,
  request: IncomingMessage,
  ip: string,
): Promise<UpgradeAccess> {
  if (!options.authorizeUpgrade) return { ok: true, user: undefined };
  const login = basicCredentials(request)?.login;
  const blocked = throttle.blocked(ip, login);
  if (blocked) return { ok: false, status: 429, reason: 'authThrottled', retryAfter: blocked.retryAfter };
  let decision: unknown;
  try {
    decision = await options.authorizeUpgrade(request);
  } catch (error) {
    if (error instanceof RefusalError) {
      const { code, retryAfter } = error.refusal;
      return { ok: false, status: code, reason: 'authBusy', ...(retryAfter ? { retryAfter } : {}) };
    }
    decision = false;
  }
  const named = (decision as { user?: unknown } | null | undefined)?.user;
  if (decision === true || typeof named === 'string') {
    throttle.record(ip, login, true);
    return { ok: true, user: typeof named === 'string' ? named : '' };
  }
  // Refused credentials count; none offered (undecided) do not.
  if (decision === false) throttle.record(ip, login, false);
  // Undecided is fine only when AUTH can still decide.
  if (decision === false || !options.authenticate) return { ok: false, status: 401, reason: 'unauthorized' };
  return { ok: true, user: undefined };
}

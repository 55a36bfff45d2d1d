/**
 * What one AUTH command decides: asked of the throttle first (a client blocked for failed attempts is
 * answered 429 before any password is hashed), then the `authenticate` hook; a hook that cannot decide now
 * (its hashing queue is full: a {@link RefusalError}) is answered with its 503 and `retryAfter`, any other
 * throw is a no. The outcome goes back to the throttle, and an accepted client gets the owner identity its
 * resumable uploads are bound to.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Status, type AuthCommand } from '../protocol/index.ts';
import type { Authenticate } from './options.ts';
import { Refusal, RefusalError } from './refusal.ts';
import type { SessionEvents } from './session-events.ts';

/** What an AUTH ended in. */
export type AuthOutcome =
  /** `owner`: what resumable uploads are bound to; `user`: who the server's events and logs name. */
  | { kind: 'accepted'; owner: string; user: string | undefined }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'closed' };

/**
 * Checks an AUTH's credentials.
 *
 * @param auth - the command
 * @param authenticate - the server's hook
 * @param request - the connection's upgrade request, passed to the hook
 * @param events - the session's hooks (the throttle's authAttempt/authResult)
 * @param closed - whether the connection closed meanwhile
 * @returns the outcome
 */
export async function decideAuth(
  auth: AuthCommand,
  authenticate: Authenticate,
  request: IncomingMessage,
  events: SessionEvents,
  closed: () => boolean,
): Promise<AuthOutcome> {
  const throttled = events.authAttempt?.(auth.login);
  if (throttled) return { kind: 'refused', refusal: Refusal.of('AUTH', throttled) };
  let decision: unknown;
  try {
    const { login, password, token } = auth;
    decision = await authenticate({ login, password, token }, request);
  } catch (error) {
    // A hook that cannot decide now (its queue is full) says when to come back; any other throw is a no.
    if (error instanceof RefusalError) {
      events.authResult?.(auth.login, undefined);
      return { kind: 'refused', refusal: Refusal.of('AUTH', error.refusal) };
    }
    decision = false;
  }
  const user = (decision as { user?: unknown } | null)?.user;
  // Only an explicit yes lets a client in: a hook that returns a truthy non-answer has a bug.
  const accepted = decision === true || typeof user === 'string';
  events.authResult?.(auth.login, accepted);
  if (closed()) return { kind: 'closed' };
  if (!accepted) {
    return { kind: 'refused', refusal: new Refusal('AUTH', Status.unauthorized, 'Authentication failed.') };
  }
  // The identity resumable uploads are bound to: the hook's user, else the login; a token only as its hash.
  const owner =
    typeof user === 'string'
      ? `user:${user}`
      : auth.login !== undefined
        ? `login:${auth.login}`
        : `token:${createHash('sha256')
            .update(auth.token ?? '')
            .digest('base64url')}`;
  return { kind: 'accepted', owner, user: typeof user === 'string' ? user : auth.login };
}

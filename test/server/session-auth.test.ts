// What one AUTH decides, without a socket: the throttle is asked first, a busy hook (RefusalError) is 503
// with retryAfter and not a failure, any other throw is a 401, and an accepted client gets its owner identity.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Authenticate } from '../../src/server/options.ts';
import { RefusalError } from '../../src/server/refusal.ts';
import { decideAuth, type AuthOutcome } from '../../src/server/session-auth.ts';
import type { SessionEvents } from '../../src/server/session-events.ts';

const request = {} as IncomingMessage;
const open = () => false;

function recorder(throttled?: { code: number; message: string; retryAfter?: number }) {
  const results: (boolean | undefined)[] = [];
  const events: SessionEvents = {
    stored: () => undefined,
    failed: () => undefined,
    authAttempt: () => throttled,
    authResult: (_login, accepted) => results.push(accepted),
  };
  return { events, results };
}

function refused(outcome: AuthOutcome) {
  return outcome.kind === 'refused' ? outcome.refusal : assert.fail(outcome.kind);
}

describe('decideAuth', () => {
  it('answers a throttled client before the hook is asked', async () => {
    const { events, results } = recorder({ code: 429, message: 'Slow down.', retryAfter: 2000 });
    let asked = false;
    const hook: Authenticate = () => ((asked = true), true);
    const refusal = refused(await decideAuth({ command: 'AUTH', login: 'a' }, hook, request, events, open));
    assert.deepEqual([refusal.code, refusal.retryAfter, refusal.answerType], [429, 2000, 'AUTH']);
    assert.equal(asked, false);
    assert.deepEqual(results, []);
  });

  it('maps a hook that cannot decide now to its 503 and reports no result', async () => {
    const { events, results } = recorder();
    const hook: Authenticate = () => {
      throw new RefusalError({ code: 503, message: 'Busy.', retryAfter: 1000 });
    };
    const refusal = refused(await decideAuth({ command: 'AUTH', login: 'a' }, hook, request, events, open));
    assert.deepEqual([refusal.code, refusal.retryAfter], [503, 1000]);
    assert.deepEqual(results, [undefined]);
  });

  it('refuses with 401 for a no, a throw or a truthy non-answer, each reported as a failure', async () => {
    const { events, results } = recorder();
    const hooks: Authenticate[] = [
      () => false,
      () => {
        throw new Error('bug');
      },
      () => ({ nope: 1 }) as never,
    ];
    for (const hook of hooks) {
      const refusal = refused(await decideAuth({ command: 'AUTH', login: 'a' }, hook, request, events, open));
      assert.equal(refusal.code, 401);
    }
    assert.deepEqual(results, [false, false, false]);
  });

  it('binds the owner to the hook user, else the login, else the token hash', async () => {
    const { events } = recorder();
    const user = await decideAuth(
      { command: 'AUTH', login: 'a' },
      () => ({ user: 'alice' }),
      request,
      events,
      open,
    );
    assert.deepEqual(user, { kind: 'accepted', owner: 'user:alice', user: 'alice' });
    const login = await decideAuth({ command: 'AUTH', login: 'bob' }, () => true, request, events, open);
    assert.deepEqual(login, { kind: 'accepted', owner: 'login:bob', user: 'bob' });
    const token = await decideAuth({ command: 'AUTH', token: 't' }, () => true, request, events, open);
    assert.equal(token.kind === 'accepted' && token.owner.startsWith('token:'), true);
    assert.notEqual(token.kind === 'accepted' && token.owner, 'token:t', 'the token only as its hash');
  });

  it('stops when the connection closed while the hook decided, after reporting the result', async () => {
    const { events, results } = recorder();
    const outcome = await decideAuth(
      { command: 'AUTH', login: 'a' },
      () => true,
      request,
      events,
      () => true,
    );
    assert.deepEqual(outcome, { kind: 'closed' });
    assert.deepEqual(results, [true]);
  });
});

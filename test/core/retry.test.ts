// The one retry decision, step by step: policy as data plus a hook, without a socket or a timer.
import { expect } from '@open-wc/testing';
import {
  DEFAULT_RETRY_DELAYS,
  retryDelay,
  RETRYABLE_STATUS,
  shouldRetry,
  type RetrySituation,
} from '../../src/core/retry.ts';

const policy = { delays: [0, 1000, 3000], random: () => 0.5 };
const drop: RetrySituation = { cause: 'socketClosed', resumable: true, attempt: 0 };

describe('shouldRetry', () => {
  it('never retries a conversation that cannot be resumed (v1)', () => {
    for (const cause of ['timeout', 'socketError', 'socketClosed', 'refused'] as const) {
      expect(shouldRetry({ cause, resumable: false, attempt: 0, status: 503 }, policy)).to.deep.equal({
        retry: false,
      });
    }
  });

  it('retries a resumable upload after the delay for its attempt, then gives up after the last', () => {
    expect(shouldRetry(drop, policy)).to.deep.equal({ retry: true, delay: 0 });
    expect(shouldRetry({ ...drop, attempt: 1 }, policy)).to.deep.equal({ retry: true, delay: 1000 });
    expect(shouldRetry({ ...drop, attempt: 2 }, policy)).to.deep.equal({ retry: true, delay: 3000 });
    expect(shouldRetry({ ...drop, attempt: 3 }, policy)).to.deep.equal({ retry: false });
  });

  it('retries only "not now" refusals, and waits at least what the server asked', () => {
    expect(RETRYABLE_STATUS).to.deep.equal([409, 429, 500, 503]);
    const refused = { ...drop, cause: 'refused' as const };
    expect(shouldRetry({ ...refused, status: 403 }, policy)).to.deep.equal({ retry: false });
    expect(shouldRetry({ ...refused, status: 413 }, policy)).to.deep.equal({ retry: false });
    expect(shouldRetry({ ...refused, status: 429, retryAfter: 2500 }, policy)).to.deep.equal({
      retry: true,
      delay: 2500,
    });
    expect(shouldRetry({ ...refused, status: 503 }, { ...policy, retryableStatus: [] })).to.deep.equal({
      retry: false,
    });
  });

  it('never retries with no delays', () => {
    expect(shouldRetry(drop, { delays: [] })).to.deep.equal({ retry: false });
  });

  it('asks the hook last, with the situation, and only when the policy would retry', () => {
    const asked: RetrySituation[] = [];
    const veto = {
      ...policy,
      hook: (situation: RetrySituation) => {
        asked.push(situation);
        return situation.cause !== 'timeout';
      },
    };
    expect(shouldRetry({ ...drop, cause: 'timeout' }, veto)).to.deep.equal({ retry: false });
    expect(shouldRetry(drop, veto)).to.deep.equal({ retry: true, delay: 0 });
    expect(shouldRetry({ ...drop, resumable: false }, veto)).to.deep.equal({ retry: false });
    expect(asked.map((situation) => situation.cause)).to.deep.equal(['timeout', 'socketClosed']);
  });

  it('jitters each delay by at most a fifth', () => {
    expect(retryDelay([1000], 0, undefined, 0)).to.equal(800);
    expect(retryDelay([1000], 0, undefined, 0.999999)).to.equal(1200);
    expect(DEFAULT_RETRY_DELAYS.length).to.be.greaterThan(0);
  });
});

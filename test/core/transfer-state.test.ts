// The transfer's state table and progress figures, without a socket.
import { expect } from '@open-wc/testing';
import {
  assertTransition,
  isActive,
  progressFigures,
  TRANSITIONS,
  type TransferState,
} from '../../src/core/transfer-state.ts';

const file = new Blob(['x']);

describe('transfer state', () => {
  it('has no way out of the three stopped states', () => {
    for (const stopped of ['complete', 'failed', 'aborted'] as const) {
      expect(TRANSITIONS[stopped]).to.deep.equal([]);
      expect(isActive(stopped)).to.equal(false);
    }
    expect(isActive('idle')).to.equal(false);
    expect(isActive('retrying')).to.equal(true);
  });

  it('refuses an illegal move loudly', () => {
    expect(() => assertTransition('idle', 'sending')).to.throw(/illegal state change idle → sending/);
    expect(() => assertTransition('retrying', 'connecting')).not.to.throw();
  });

  it('lets every active state be aborted', () => {
    const states = Object.keys(TRANSITIONS) as TransferState[];
    for (const state of states.filter(isActive)) expect(TRANSITIONS[state]).to.include('aborted');
  });

  it('derives percentage, speed and remaining time from the counts', () => {
    const figures = progressFigures({
      loaded: 50,
      sent: 80,
      total: 200,
      elapsedTime: 2,
      complete: false,
      file,
    });
    expect(figures).to.include({
      loaded: 50,
      sent: 80,
      total: 200,
      percentage: 25,
      speed: 25,
      remainingTime: 6,
    });
    expect(
      progressFigures({ loaded: 0, sent: 0, total: 0, elapsedTime: 0, complete: true, file }).percentage,
    ).to.equal(100);
    expect(
      progressFigures({ loaded: 0, sent: 0, total: 10, elapsedTime: 0, complete: false, file }).remainingTime,
    ).to.equal(Infinity);
  });
});

// The transfer's state table and progress figures, without a socket.
import { expect } from '@open-wc/testing';
import {
  assertTransition,
  isActive,
  pauseError,
  pauseRefusal,
  progressFigures,
  TRANSITIONS,
  type TransferState,
} from '../../src/core/transfer-state.ts';

const file = new Blob(['x']);

describe('transfer state', () => {
  it('pauses only where the upload can continue later, and says why not elsewhere', () => {
    const id = 'u_1';
    const at = (state: TransferState, uploadId: string | null = id, canResume = true) =>
      pauseRefusal({ state, canResume, uploadId });
    // Before STOR nothing is held on the server; a reconnection wait is resumable by definition.
    expect(at('connecting', null)).to.equal(null);
    expect(at('authenticating', null)).to.equal(null);
    expect(at('retrying', null)).to.equal(null);
    expect(at('sending')).to.equal(null);
    expect(at('finishing')).to.equal(null);
    // STOR sent: only its answer tells whether the server can resume.
    expect(at('storing')).to.equal('notYetAgreed');
    // v1: the server answered without an id.
    expect(at('sending', null)).to.equal('notResumable');
    // v2 not offered, or a store that keeps no record.
    expect(at('sending', id, false)).to.equal('notResumable');
    for (const state of ['idle', 'complete', 'failed', 'aborted', 'paused'] as const) {
      expect(at(state)).to.equal('notRunning');
    }
    // Every state that may pause has the move in the table, and none that may not.
    for (const state of Object.keys(TRANSITIONS) as TransferState[]) {
      expect(TRANSITIONS[state].includes('paused'), state).to.equal(at(state) === null);
    }
    expect(pauseError('notResumable').name).to.equal('NotSupportedError');
    expect(pauseError('notResumable').message).to.match(/^notResumable: .*v1/);
    expect(pauseError('notRunning').name).to.equal('InvalidStateError');
  });

  it('leaves paused only for aborted (a cancel deletes the partial upload)', () => {
    expect(TRANSITIONS.paused).to.deep.equal(['aborted']);
    expect(isActive('paused')).to.equal(false);
  });

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

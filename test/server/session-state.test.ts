// The session's state machine, step by step and without a socket: every transition the table allows
// happens, every other one throws, closed is final, and what a state carries is read back from the one
// state field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { v1Agreement } from '../../src/server/agreement.ts';
import {
  CLOSED,
  IllegalTransition,
  READY,
  SessionStateMachine,
  TRANSITIONS,
  type ReceivingUpload,
  type SessionState,
  type SessionStateName,
} from '../../src/server/session-state.ts';
import { FileStore } from '../../src/server/index.ts';
import { tempDir } from './peer.ts';

const NAMES: SessionStateName[] = ['ready', 'receiving', 'finished', 'closed'];
const RECORD = {
  size: 3,
  filename: 'a.txt',
  checksum: undefined,
  owner: null,
  expiresAt: Date.now() + 60_000,
};

async function receivingUpload(): Promise<ReceivingUpload> {
  const store = new FileStore({ dir: await tempDir() });
  const partial = await store.create({ filename: 'a.txt', size: 3 });
  return {
    partial,
    agreement: v1Agreement('binary'),
    size: 3,
    received: 0,
    requestedName: 'a.txt',
    parameters: null,
    startedAt: Date.now(),
    blocks: null,
  };
}

/** A state of each name, as the session builds them. */
async function stateNamed(name: SessionStateName): Promise<SessionState> {
  if (name === 'ready') return READY;
  if (name === 'closed') return CLOSED;
  if (name === 'finished') return { name: 'finished', id: 'u_x', record: RECORD };
  return { name: 'receiving', upload: await receivingUpload() };
}

/** A machine driven into `name` along allowed transitions. */
async function machineIn(name: SessionStateName): Promise<SessionStateMachine> {
  const machine = new SessionStateMachine();
  if (name !== 'ready') machine.to(await stateNamed(name));
  assert.equal(machine.state.name, name);
  return machine;
}

describe('session state machine', () => {
  it('starts ready, not closed, with no upload', () => {
    const machine = new SessionStateMachine();
    assert.equal(machine.state.name, 'ready');
    assert.equal(machine.closed, false);
    assert.equal(machine.upload, undefined);
  });

  for (const from of NAMES) {
    for (const to of NAMES) {
      const allowed = TRANSITIONS[from].includes(to);
      it(`${from} → ${to} is ${allowed ? 'allowed' : 'refused'}`, async () => {
        const machine = await machineIn(from);
        const next = await stateNamed(to);
        assert.equal(machine.can(to), allowed);
        if (allowed) {
          const previous = machine.to(next);
          assert.equal(previous.name, from);
          assert.equal(machine.state, next);
        } else {
          assert.throws(() => machine.to(next), IllegalTransition);
          assert.equal(machine.state.name, from, 'a refused transition leaves the state as it was');
        }
      });
    }
  }

  it('allows exactly the transitions the header comment draws', () => {
    assert.deepEqual(TRANSITIONS, {
      ready: ['ready', 'receiving', 'finished', 'closed'],
      receiving: ['ready', 'closed'],
      finished: ['ready', 'receiving', 'finished', 'closed'],
      closed: [],
    });
  });

  it('closed is final: the table lets nothing out of it', () => {
    assert.deepEqual(TRANSITIONS.closed, []);
  });

  it('every state can close', () => {
    for (const name of NAMES.filter((n) => n !== 'closed')) assert.ok(TRANSITIONS[name].includes('closed'));
  });

  it('carries the upload inside the receiving state, and drops it with the state', async () => {
    const machine = new SessionStateMachine();
    const upload = await receivingUpload();
    machine.to({ name: 'receiving', upload });
    assert.equal(machine.upload, upload);
    machine.to(READY);
    assert.equal(machine.upload, undefined);
  });

  it('walks an upload: STOR, stored, a resume of a stored upload, its FIN, then the close', async () => {
    const machine = new SessionStateMachine();
    machine.to({ name: 'receiving', upload: await receivingUpload() });
    machine.to(READY);
    machine.to({ name: 'finished', id: 'u_x', record: RECORD });
    assert.equal(machine.upload, undefined);
    machine.to(READY);
    machine.to(CLOSED);
    assert.equal(machine.closed, true);
    assert.throws(() => machine.to(READY), /from closed to ready/);
  });

  it('keeps the empty frame of an empty v1 file due in the ready state, until the next message', () => {
    const machine = new SessionStateMachine();
    machine.to({ name: 'ready', emptyFrameDue: true });
    const { state } = machine;
    assert.equal(state.name === 'ready' && state.emptyFrameDue, true);
    machine.to(READY);
    const after = machine.state;
    assert.equal(after.name === 'ready' && after.emptyFrameDue, undefined);
  });
});

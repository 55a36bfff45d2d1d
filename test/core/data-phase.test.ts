// The data phase through its public contract, step by step and without a socket: a real Agreement and a
// real ChunkPump over a File, and a host that writes down what the phase asks of the transfer (state
// changes, frames sent, answers awaited, outcomes). The answers are scripted as a server would send them.
import { expect } from '@open-wc/testing';
import type { Answer, AnswerType } from '../../src/protocol/index.ts';
import { Agreement } from '../../src/core/agreement.ts';
import { ChunkPump } from '../../src/core/chunk-pump.ts';
import type { Failure } from '../../src/core/conversation.ts';
import { DataPhase, type DataPhaseHost } from '../../src/core/data-phase.ts';
import type { TransferState } from '../../src/core/transfer-state.ts';
import { makeFile } from '../helpers/make-file.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const url = 'ws://upload.test/data-phase';

/** A host that records what the data phase does; `log` reads like the conversation. */
class RecordingHost implements DataPhaseHost {
  readonly log: string[] = [];
  readonly frames: (string | ArrayBuffer)[] = [];
  readonly failures: Failure[] = [];
  succeeded: { id: string; filename: string } | null | undefined = undefined;
  #state: TransferState = 'sending';
  #generation = 0;

  constructor(
    readonly agreement: Agreement,
    readonly sender: ChunkPump,
  ) {}

  state(): TransferState {
    return this.#state;
  }
  setState(next: TransferState): void {
    this.log.push(`state ${next}`);
    this.#state = next;
  }
  current(): () => boolean {
    const generation = this.#generation;
    return () => generation === this.#generation;
  }
  /** The connection of now is gone (what the transfer does on a drop). */
  drop(): void {
    this.#generation++;
  }
  send(frame: string | ArrayBuffer): boolean {
    this.frames.push(frame);
    this.log.push(typeof frame === 'string' ? `send ${frame}` : `send ${frame.byteLength} bytes`);
    return true;
  }
  expect(type: AnswerType): void {
    this.log.push(`expect ${type}`);
  }
  fail(failure: Failure): void {
    this.failures.push(failure);
    this.log.push('fail');
  }
  readFailed(): void {
    this.log.push('readFailed');
  }
  progressed(): void {
    this.log.push('progressed');
  }
  progress(): void {
    this.log.push('progress');
  }
  handOver(): void {
    this.log.push('handOver');
  }
  succeed(stored: { id: string; filename: string } | null): void {
    this.succeeded = stored;
    this.log.push('succeed');
  }
}

/** Waits (at most about a second) until `done` holds: reading a File slice takes a few turns. */
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 100 && !done(); turn++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done(), 'condition reached in time').to.equal(true);
}

/** A v1 host: stop-and-wait, no upload id, success on the last ack. */
function v1Host(size: number, chunk: number, store = new MemoryStore()): RecordingHost {
  const file = makeFile(size);
  const agreement = new Agreement({
    file,
    url,
    resumeStore: store,
    window: 1,
    type: 'binary',
    checksum: false,
  });
  return new RecordingHost(agreement, new ChunkPump(file, chunk, 'binary'));
}

/** A v2 host after a grant with FIN (and a chunk window of `window`), no block integrity. */
function v2Host(size: number, chunk: number, window: number, store = new MemoryStore()): RecordingHost {
  const file = makeFile(size);
  const agreement = new Agreement({ file, url, resumeStore: store, window, type: 'binary', checksum: false });
  const terms = agreement.accept({
    v: 2,
    id: 'u_phase',
    offset: 0,
    ext: {
      binary: true,
      window,
      maxChunk: chunk,
      checksum: null,
      expires: '2099-01-01T00:00:00.000Z',
      fin: true,
    },
  });
  const sender = new ChunkPump(file, chunk, 'binary');
  sender.restart(0, terms.window, chunk, terms.encoding);
  return new RecordingHost(agreement, sender);
}

const dataAck = (bytesRead: number, offset?: number): Answer => ({
  type: 'DATA',
  code: 200,
  bytesRead,
  ...(offset === undefined ? {} : { offset }),
});

describe('DataPhase', () => {
  it('v1: one chunk at a time, the next after each ack, success after the last without FIN', async () => {
    const host = v1Host(250, 100);
    const phase = new DataPhase(host);
    phase.continue(0);
    await until(() => host.frames.length === 1);
    expect(host.log).to.deep.equal(['send 100 bytes', 'expect DATA']);

    phase.acknowledged(dataAck(100));
    await until(() => host.frames.length === 2);
    phase.acknowledged(dataAck(100));
    await until(() => host.frames.length === 3);
    expect((host.frames[2] as ArrayBuffer).byteLength).to.equal(50);
    expect(host.succeeded).to.equal(undefined);
    phase.acknowledged(dataAck(50));
    expect(host.succeeded).to.equal(null);
    // v1 has no upload id: acks never count as progress the server keeps, and there is no FIN.
    expect(host.log).not.to.include('progressed');
    expect(host.log.filter((line) => line.startsWith('send FIN'))).to.deep.equal([]);
  });

  it('v2: fills the window, sends FIN with the size once every byte is acknowledged, then succeeds', async () => {
    const store = new MemoryStore();
    const host = v2Host(300, 100, 2, store);
    const phase = new DataPhase(host);
    phase.continue(0);
    await until(() => host.frames.length === 2);
    // The window of two is full: the third chunk waits for an ack.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(host.frames.length).to.equal(2);

    phase.acknowledged(dataAck(100, 100));
    await until(() => host.frames.length === 3);
    // The resume record follows what the server acknowledged.
    expect([...store.records.values()][0]).to.include({ id: 'u_phase', offset: 100 });
    phase.acknowledged(dataAck(100, 200));
    phase.acknowledged(dataAck(100, 300));
    await until(() => host.log.includes('send FIN: {"size":300}'));
    expect(host.state()).to.equal('finishing');
    expect(host.log.at(-1)).to.equal('expect FIN');
    expect(host.succeeded).to.equal(undefined);

    phase.finAnswered({ type: 'FIN', code: 200, id: 'u_phase', filename: 'stored.bin' });
    expect(host.succeeded).to.deep.equal({ id: 'u_phase', filename: 'stored.bin' });
    expect(store.records.size, 'the record is forgotten once committed').to.equal(0);
    expect(host.log.filter((line) => line === 'progressed').length).to.equal(3);
  });

  it('fails the upload on an ack whose offset is not the one due, and sends nothing more', async () => {
    const host = v2Host(300, 100, 1);
    const phase = new DataPhase(host);
    phase.continue(0);
    await until(() => host.frames.length === 1);
    phase.acknowledged(dataAck(100, 99));
    expect(host.failures.length).to.equal(1);
    expect(host.log).not.to.include('progress');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(host.frames.length).to.equal(1);
  });

  it('stops when a progress listener left the sending state, and on a connection that is gone', async () => {
    const host = v2Host(300, 100, 1);
    const phase = new DataPhase(host);
    phase.continue(0);
    await until(() => host.frames.length === 1);
    host.setState('aborted');
    phase.acknowledged(dataAck(100, 100));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(host.frames.length, 'nothing sent after the abort').to.equal(1);

    const dropped = v2Host(300, 100, 3);
    const second = new DataPhase(dropped);
    second.continue(0);
    dropped.drop(); // before the first read finished: the chunks read for the old connection are not sent
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(dropped.frames.length).to.equal(0);
  });

  it('continue() with every byte held: FIN when agreed, success at once when not', async () => {
    const v2 = v2Host(100, 100, 1);
    new DataPhase(v2).continue(100);
    await until(() => v2.log.includes('send FIN: {"size":100}'));
    expect(v2.succeeded).to.equal(undefined);

    const v1 = v1Host(100, 100);
    new DataPhase(v1).continue(100);
    expect(v1.succeeded).to.equal(null);
    expect(v1.frames.length).to.equal(0);
  });
});

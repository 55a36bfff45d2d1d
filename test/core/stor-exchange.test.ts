// The STOR exchange through its public contract, without a socket: real options, a real Agreement and a real
// ChunkPump over a File, and a host that writes down what the exchange asks of the transfer (frames sent,
// answers awaited, the data phase started, retries, warnings). The answers are scripted as a server sends them.
import { expect } from '@open-wc/testing';
import { V1_TERMS, type Answer, type Terms } from '../../src/protocol/index.ts';
import { Agreement } from '../../src/core/agreement.ts';
import { ChunkPump } from '../../src/core/chunk-pump.ts';
import { ConnectionPool } from '../../src/core/connection-pool.ts';
import type { Failure } from '../../src/core/conversation.ts';
import { EARLY_NOT_TAKEN } from '../../src/core/early-data.ts';
import type { WarningDetail } from '../../src/core/events.ts';
import { resolveOptions, type ResolvedOptions } from '../../src/core/options.ts';
import type { RetryCause, RetryRefusal } from '../../src/core/retry.ts';
import { StorExchange, type StorExchangeHost } from '../../src/core/stor-exchange.ts';
import type { TransferState } from '../../src/core/transfer-state.ts';
import { makeFile } from '../helpers/make-file.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const url = 'ws://upload.test/stor-exchange';
const KiB = 1024;

/** A host that records what the exchange does; `log` reads like the conversation. */
class RecordingHost implements StorExchangeHost {
  readonly log: string[] = [];
  readonly frames: string[] = [];
  readonly failures: Failure[] = [];
  readonly warnings: Omit<WarningDetail, 'file'>[] = [];
  readonly agreement: Agreement;
  readonly sender: ChunkPump;
  /** What `knownTerms` answers: the previous upload's terms on this socket. */
  known: Terms | null = null;
  /** What `retry` answers. */
  retries = false;
  /** What `startOver` answers (a fresh socket at once). */
  startsOver = false;
  /** What `rememberTerms` was told, in order: the page's memory of the server's `early` grant. */
  readonly remembered: (Terms | null)[] = [];
  /** The last `silent` callback given to `watchSilence`. */
  silent: ((bound: number) => void) | null = null;
  #state: TransferState = 'connecting';

  constructor(readonly options: ResolvedOptions) {
    this.agreement = new Agreement(options);
    this.sender = new ChunkPump(options.file, options.chunkSize, options.type);
  }

  state(): TransferState {
    return this.#state;
  }
  setState(next: TransferState): void {
    this.log.push(`state ${next}`);
    this.#state = next;
  }
  knownTerms(): Terms | null {
    return this.known;
  }
  send(frame: string | ArrayBuffer): boolean {
    if (typeof frame !== 'string') throw new Error('the STOR exchange sends no chunk itself');
    this.frames.push(frame);
    this.log.push('send STOR');
    return true;
  }
  expectAnswer(): void {
    this.log.push('expect STOR');
  }
  fail(failure: Failure): void {
    this.failures.push(failure);
    this.log.push('fail');
  }
  retry(cause: RetryCause, refusal: RetryRefusal = {}): boolean {
    this.log.push(`retry ${cause}${refusal.status ? ` ${refusal.status}` : ''}`);
    return this.retries;
  }
  rememberTerms(terms: Terms | null): void {
    this.remembered.push(terms);
  }
  startOver(): boolean {
    this.log.push('start over');
    return this.startsOver;
  }
  progressed(): void {
    this.log.push('progressed');
  }
  watchSilence(alive: number | null, silent: (bound: number) => void): void {
    this.silent = silent;
    this.log.push(`watch ${alive}`);
  }
  grantReuse(): void {
    this.log.push('reuse');
  }
  warn(warning: Omit<WarningDetail, 'file'>): void {
    this.warnings.push(warning);
    this.log.push(`warn ${warning.code}`);
  }
  continueData(loaded: number): void {
    this.log.push(`data from ${loaded}`);
  }
  earlyTaken(): void {
    this.log.push('early taken');
  }

  /** The `ext` of the last STOR sent (undefined for a v1 STOR). */
  lastExt(): Record<string, unknown> | undefined {
    const frame = this.frames.at(-1)!;
    expect(frame.startsWith('STOR: ')).to.equal(true);
    return (JSON.parse(frame.slice('STOR: '.length)) as { ext?: Record<string, unknown> }).ext;
  }
}

function host(size: number, extra: Partial<Parameters<typeof resolveOptions>[0]> = {}): RecordingHost {
  const file = makeFile(size);
  return new RecordingHost(
    resolveOptions({ url, file, checksum: false, resumeStore: new MemoryStore(), ...extra }),
  );
}

/** A v2 STOR answer granting binary, FIN and `ext`'s extra fields. */
function grant(offset: number, ext: Record<string, unknown> = {}, id = 'u_stor'): Answer {
  return {
    type: 'STOR',
    code: 200,
    v: 2,
    id,
    offset,
    ext: {
      binary: true,
      window: 4,
      maxChunk: 64 * KiB,
      checksum: null,
      fin: true,
      expires: '2099-01-01T00:00:00.000Z',
      ...ext,
    },
  };
}

/** Terms a previous upload on the socket was granted, `early` among them. */
const earlyTerms: Terms = Object.freeze({
  ...V1_TERMS,
  version: 2,
  encoding: 'binary',
  window: 4,
  maxChunk: 64 * KiB,
  fin: true,
  resumable: true,
  credit: 1024 * KiB,
  reuse: true,
  early: true,
});

describe('StorExchange', () => {
  it('v1: a STOR without ext, then the data phase from 0 on its answer', () => {
    const h = host(300, { offerV2: false });
    const stor = new StorExchange(h);
    stor.send();
    expect(h.lastExt()).to.equal(undefined);
    expect(h.log).to.deep.equal(['state storing', 'send STOR', 'expect STOR']);
    stor.answered({ type: 'STOR', code: 200 });
    expect(h.log.slice(3)).to.deep.equal(['data from 0']);
    expect(h.agreement.terms.version).to.equal(1);
  });

  it('v2: the grant becomes the terms, the record and the sender; keep-alive and reuse turn on', () => {
    const store = new MemoryStore();
    const h = host(300 * KiB, { resumeStore: store });
    const stor = new StorExchange(h);
    stor.send();
    expect(h.lastExt()).to.include({ resume: null });
    stor.answered(grant(128 * KiB, { alive: 15000, reuse: true }));
    expect(h.agreement.uploadId).to.equal('u_stor');
    // The server holds more than this side sent: the retry count starts over; data goes on from its offset.
    expect(h.log.slice(3)).to.deep.equal(['watch 15000', 'progressed', 'data from 131072']);
    expect(h.sender.window.loaded).to.equal(128 * KiB);
    expect([...store.records.values()][0]).to.include({ id: 'u_stor', offset: 128 * KiB });
    // `reuse` was not offered (no pool of sockets): not agreed, so the socket is not granted for reuse.
    expect(h.log).not.to.include('reuse');

    const pooled = host(300 * KiB, { connections: new ConnectionPool() });
    const shared = new StorExchange(pooled);
    shared.send();
    shared.answered(grant(0, { reuse: true }));
    expect(pooled.log.slice(3)).to.deep.equal(['watch null', 'reuse', 'data from 0']);
  });

  it('silence past the keep-alive bound: a retry, else the upload fails', () => {
    const h = host(300 * KiB);
    const stor = new StorExchange(h);
    stor.send();
    stor.answered(grant(0, { alive: 1000 }));
    h.retries = true;
    h.silent!(3000);
    expect(h.failures.length).to.equal(0);
    h.retries = false;
    h.silent!(3000);
    expect(h.log.filter((line) => line === 'retry timeout').length).to.equal(2);
    expect(h.failures.map((failure) => failure.code)).to.deep.equal(['answerTimeout']);
  });

  it('integrity asked for and not granted: one warning, not one per connection', () => {
    const h = host(300 * KiB, { checksum: true });
    const stor = new StorExchange(h);
    stor.send();
    stor.answered(grant(0));
    stor.send();
    stor.answered(grant(0));
    expect(h.warnings.length).to.equal(1);
    expect(h.warnings[0]!.code).to.be.oneOf(['integrityNotGranted', 'integrityUnavailable']);
  });

  it('a bad STOR answer fails, and a v1 answer to a resume is a bad answer', () => {
    const h = host(300 * KiB);
    const stor = new StorExchange(h);
    stor.send();
    stor.answered({ ...grant(0), id: 42 });
    expect(h.failures.map((failure) => failure.code)).to.deep.equal(['badAnswer']);

    const resuming = host(300 * KiB);
    const again = new StorExchange(resuming);
    again.send();
    again.answered(grant(0));
    again.send();
    expect(resuming.lastExt()).to.include({ resume: 'u_stor' });
    again.answered({ type: 'STOR', code: 200 });
    expect(resuming.failures.map((failure) => failure.code)).to.deep.equal(['badAnswer']);
  });

  it('a resume the server forgot (404): STOR again, fresh, once; other refusals are the transfer’s', () => {
    const store = new MemoryStore();
    const h = host(300 * KiB, { resumeStore: store });
    const stor = new StorExchange(h);
    stor.send();
    stor.answered(grant(64 * KiB));
    stor.send();
    expect(h.lastExt()).to.include({ resume: 'u_stor' });
    expect(stor.refused({ type: 'STOR', code: 404 })).to.equal(true);
    expect(h.lastExt()).to.include({ resume: null });
    expect(h.agreement.uploadId).to.equal(null);
    expect(store.records.size, 'the record is forgotten').to.equal(0);
    // Now nothing was offered: a second 404 ends the upload, and so does any other refusal.
    expect(stor.refused({ type: 'STOR', code: 404 })).to.equal(false);
    expect(stor.refused({ type: 'STOR', code: 503 })).to.equal(false);
    expect(h.frames.length).to.equal(3);
  });

  it('early data: announced in the STOR, the data phase starts before the answer, which takes it', () => {
    const store = new MemoryStore();
    const h = host(100 * KiB, { resumeStore: store, connections: new ConnectionPool() });
    h.known = earlyTerms;
    const stor = new StorExchange(h);
    stor.send();
    expect(h.lastExt()).to.include({ early: 100 * KiB });
    expect(h.log).to.deep.equal(['state storing', 'send STOR', 'expect STOR', 'data from 0']);
    expect(h.agreement.early).not.to.equal(null);
    stor.answered(grant(0, { reuse: true, early: true }));
    expect(h.agreement.early).to.equal(null);
    expect(h.log.slice(4)).to.deep.equal(['watch null', 'reuse', 'early taken']);
    expect([...store.records.values()][0]).to.include({ id: 'u_stor', offset: 0 });
  });

  it('early data not taken: a retry on a fresh socket, else the upload fails', () => {
    for (const retries of [true, false]) {
      const h = host(100 * KiB);
      h.known = earlyTerms;
      h.retries = retries;
      const stor = new StorExchange(h);
      stor.send();
      // Another offset: the server dropped the early bytes.
      stor.answered(grant(32 * KiB));
      expect(h.log).to.include('retry refused 409');
      expect(h.log).not.to.include('early taken');
      expect(h.failures).to.deep.equal(retries ? [] : [EARLY_NOT_TAKEN]);
    }
  });

  it('early data not taken: starts over on a fresh socket at once when it may, and the page forgets the grant', () => {
    const h = host(100 * KiB);
    h.known = earlyTerms;
    h.startsOver = true;
    const stor = new StorExchange(h);
    stor.send();
    stor.answered(grant(0, { binary: false }));
    expect(h.log).to.include('start over');
    expect(h.log).not.to.include('retry refused 409');
    expect(h.failures).to.deep.equal([]);
    expect(h.remembered).to.deep.equal([null]);
  });

  it("tells the page's memory every answer's terms: an early grant to keep, anything else to forget", () => {
    const h = host(100 * KiB);
    const stor = new StorExchange(h);
    stor.send();
    stor.answered(grant(0, { early: true }));
    expect(h.remembered.map((terms) => terms?.early)).to.deep.equal([true]);
    const again = host(100 * KiB);
    const second = new StorExchange(again);
    second.send();
    second.answered(grant(0));
    expect(again.remembered.map((terms) => terms?.early)).to.deep.equal([false]);
    const v1 = host(100 * KiB);
    const third = new StorExchange(v1);
    third.send();
    third.answered({ type: 'STOR', code: 200, message: 'Upload initialized. Wait for data' });
    expect(v1.remembered).to.deep.equal([null]);
  });

  it('sends no early data on a socket without the grant, nor for a resume', () => {
    const h = host(100 * KiB);
    h.known = { ...earlyTerms, early: false };
    const stor = new StorExchange(h);
    stor.send();
    expect(h.lastExt(), 'nothing announced').to.include({ early: 0 });
    stor.answered(grant(0));
    h.known = earlyTerms;
    stor.send();
    expect(h.lastExt()).to.include({ resume: 'u_stor' });
    expect(h.lastExt()).to.include({ early: 0 });
    expect(h.log).not.to.include('early taken');
  });
});

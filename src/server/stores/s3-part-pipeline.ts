/**
 * How one S3 upload's bytes get into the bucket, written once in parts: received chunks are copied into a
 * buffer of a part's size (s3-part-buffers.ts); a full buffer is sealed (given a part number, hashed on the
 * hashing thread: s3-part-hasher.ts) and uploaded while the next one fills, at most {@link PARTS_IN_FLIGHT}
 * parts unrecorded at once, side by side; stored parts are then recorded in the state object, in order, with
 * If-Match (the claim check) — those that finished while the previous write was on its way in one write.
 * An ack waits for {@link PartPipeline.durable}: the part holding its bytes recorded — or, when the client stops sending
 * (idle, its credit spent, a pause, the end of the connection), the bytes below a part put as one tail
 * object (s3-tail.ts) and the claim checked after it.
 *
 * Under block integrity (`sha256-blocks`) only verified bytes go into a part or a tail object: a full
 * buffer waits for its blocks' verdicts, a damaged block is rewritten in memory when it is sent again, and
 * an ack waits only for the verified bytes below its offset to be stored (an unverified block is never
 * stored, so waiting for it could only stall).
 *
 * A node that lost its claim learns it when it next records a part (If-Match fails): by then it may have
 * uploaded up to {@link PARTS_IN_FLIGHT} parts, under the numbers the new holder uses next. RGW 16 refuses
 * to complete an upload with parts left out of the list, so numbers are not skipped; the new holder's
 * recorded ETags decide at completion (s3-partial-upload.ts).
 */
import { uploadPart } from './s3-upload-part.ts';
import type { PartBuffers } from './s3-part-buffers.ts';
import type { PartHasher } from './s3-part-hasher.ts';
import type { UploadState } from './s3-state.ts';
import type { S3UploadHost } from './s3-partial-upload.ts';

/** Parts sealed and not yet recorded, per upload: the overlap of uploading with receiving. */
export const PARTS_IN_FLIGHT = 4;
/** No bytes for this long while acks wait: the client is waiting for them, the tail is stored. */
export const IDLE_FLUSH_MS = 15;
/**
 * No ack waits longer than this for its part (plus the tail's PUT): a slow upload (many sharing the
 * bucket, a slow link) would otherwise wait a part's filling time for each ack, past the client's ack
 * timeout (~30 s), and reconnect. Costs a tail object per second for uploads slower than a part a second.
 */
export const MAX_ACK_DELAY_MS = 1000;

/** Bytes of the file in memory, not in a part yet: [start, start + length) of a buffer of `capacity`. */
interface HeldBuffer {
  start: number;
  bytes: Buffer;
  length: number;
}

/** A part sealed and not recorded yet: hashing, uploading, or stored and waiting for the parts before it. */
interface SealedPart {
  n: number;
  size: number;
  /** The file offset it ends at. */
  end: number;
  /** Set once S3 stored it: its ETag, and the SHA-256 state after it. */
  stored?: { etag: string; hashState: string };
}

interface DurableWaiter {
  offset: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** What the pipeline needs of its upload: the state, its fenced writes, the hash, the memory. */
export interface PipelineOwner {
  readonly host: S3UploadHost;
  readonly state: UploadState;
  readonly hasher: PartHasher;
  readonly buffers: PartBuffers;
  /** Writes the state with If-Match; throws the takeover refusal when the claim is lost. */
  saveState(): Promise<void>;
  /** Throws the takeover refusal unless the state object still has this node's ETag. */
  checkClaim(): Promise<void>;
}

export class PartPipeline {
  readonly #owner: PipelineOwner;
  /** Unsealed bytes in order; the last one is filling. */
  readonly #held: HeldBuffer[] = [];
  #received: number;
  #sealedEnd: number;
  /** Bytes stored in tail objects of this claim, from the end of the recorded parts. */
  #tailEnd: number;
  /** Tail objects holding bytes past the recorded parts, deleted once those are in a part. */
  #tailKeys: string[];
  /** Tail bytes read back (a takeover) not yet copied into a buffer. */
  #loadedTail: Uint8Array[] | undefined;
  /** Parts sealed and not recorded yet, in order. */
  readonly #sealed: SealedPart[] = [];
  /** Every state write, claim check and tail put, one after the other (they compare ETags). */
  #serial: Promise<void> = Promise.resolve();
  #failure: unknown;
  #verified: (() => number) | null = null;
  readonly #waiters: DurableWaiter[] = [];
  #idle: NodeJS.Timeout | undefined;
  /** Armed while acks wait: stores the tail after {@link MAX_ACK_DELAY_MS} even while bytes keep coming. */
  #deadline: NodeJS.Timeout | undefined;
  /** Writes waiting for an unrecorded part to make room. */
  readonly #roomWaiters: (() => void)[] = [];

  constructor(owner: PipelineOwner, tail: { chunks: Uint8Array[]; keys: string[]; end: number }) {
    this.#owner = owner;
    this.#received = tail.end;
    this.#sealedEnd = owner.state.partsEnd;
    this.#tailEnd = tail.end;
    this.#tailKeys = tail.keys;
    this.#loadedTail = tail.chunks.length > 0 ? tail.chunks : undefined;
  }

  /** Bytes taken so far (the offset the session continues at). */
  get received(): number {
    return this.#received;
  }

  /** Bytes in the bucket: in recorded parts or in tail objects. */
  get durableEnd(): number {
    return Math.max(this.#owner.state.partsEnd, this.#tailEnd);
  }

  /** Under block integrity: where the verified bytes end (asked when needed). Null: every byte counts. */
  gate(verified: (() => number) | null): void {
    this.#verified = verified;
  }

  get gated(): boolean {
    return this.#verified !== null;
  }

  #verifiedEnd(): number {
    return this.#verified ? Math.min(this.#verified(), this.#received) : this.#received;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#throwIfFailed();
    if (this.#received + chunk.byteLength > this.#owner.state.size)
      throw new Error('More bytes than declared.');
    await this.#reload();
    let at = 0;
    while (at < chunk.byteLength) {
      let last = this.#held.at(-1);
      if (!last || last.length === last.bytes.byteLength) {
        last = await this.#newBuffer(this.#received);
        this.#throwIfFailed();
      }
      const take = Math.min(chunk.byteLength - at, last.bytes.byteLength - last.length);
      last.bytes.set(chunk.subarray(at, at + take), last.length);
      last.length += take;
      at += take;
      this.#received += take;
    }
    this.#seal();
    this.#armIdle();
  }

  /** Writes bytes again in memory (a block sent again); they must not be stored yet. */
  rewrite(position: number, bytes: Uint8Array): void {
    const first = this.#held[0];
    if (
      !first ||
      position < Math.max(first.start, this.durableEnd) ||
      position + bytes.byteLength > this.#received
    ) {
      throw new RangeError('A rewrite must stay within the bytes not stored yet.');
    }
    let at = 0;
    for (const held of this.#held) {
      const from = position + at - held.start;
      if (from < 0 || from >= held.length) continue;
      const take = Math.min(bytes.byteLength - at, held.length - from);
      held.bytes.set(bytes.subarray(at, at + take), from);
      at += take;
      if (at === bytes.byteLength) break;
    }
    this.#seal();
  }

  /** Drops the bytes in memory from `offset` on (not stored: nothing in the bucket changes). */
  dropFrom(offset: number): void {
    if (offset < Math.max(this.durableEnd, this.#sealedEnd) || offset > this.#received) {
      throw new RangeError(`Cannot drop stored bytes (from ${offset}, ${this.durableEnd} stored).`);
    }
    while (this.#held.length > 0 && this.#held.at(-1)!.start >= offset) {
      this.#owner.buffers.give(this.#held.pop()!.bytes);
    }
    const last = this.#held.at(-1);
    if (last) last.length = Math.min(last.length, offset - last.start);
    this.#received = offset;
  }

  /**
   * Resolves once the bytes below `offset` that may be stored are in the bucket (under block integrity,
   * the verified ones); rejects when storing failed or the claim was lost.
   */
  durable(offset: number): Promise<void> {
    this.#throwIfFailed();
    this.#seal();
    if (this.durableEnd >= Math.min(offset, this.#verifiedEnd())) return Promise.resolve();
    this.#armIdle();
    return new Promise((resolve, reject) => this.#waiters.push({ offset, resolve, reject }));
  }

  /** Stores everything that may be stored: parts as far as they go, the rest (verified) as a tail object. */
  async flush(): Promise<void> {
    await this.#settle();
    await this.#queue(() => this.#putTail());
    this.#throwIfFailed();
  }

  /** Every byte received and verified in recorded parts: the file is complete (commit, FIN's digest). */
  async sealAll(): Promise<void> {
    await this.#reload();
    await this.#settle();
    this.#throwIfFailed();
    if (this.#owner.state.partsEnd !== this.#received) {
      throw new Error(`Only ${this.#owner.state.partsEnd} of ${this.#received} bytes could be stored.`);
    }
  }

  /** Lets go of the memory: what was not stored is lost (flush first to keep it). */
  drop(): void {
    // Forgotten, not only cleared: a cleared timer cannot be refreshed back to life (a resume on this node).
    clearTimeout(this.#idle);
    this.#idle = undefined;
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    for (const held of this.#held.splice(0)) this.#owner.buffers.give(held.bytes);
    this.#received = Math.max(this.durableEnd, this.#sealedEnd);
  }

  /** Stops: waiters and later calls get `error`. */
  fail(error: unknown): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failure);
    for (const wake of this.#roomWaiters.splice(0)) wake();
    this.drop();
  }

  /** Restarts at 0 (a resume with block integrity of bytes stored without it): the parts are forgotten. */
  restart(): void {
    this.drop();
    this.#received = this.#sealedEnd = this.#tailEnd = 0;
    this.#loadedTail = undefined;
  }

  /** Tail objects no part holds yet (to delete with the upload). */
  get tailKeys(): readonly string[] {
    return this.#tailKeys;
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #newBuffer(start: number): Promise<HeldBuffer> {
    const { state, buffers } = this.#owner;
    // At most PARTS_IN_FLIGHT + 1 buffers per upload: a part being recorded makes room (bounded wait).
    for (let i = 0; i < 100 && this.#failure === undefined; i++) {
      if (this.#sealed.length === 0 || this.#sealed.length + this.#held.length < PARTS_IN_FLIGHT + 1) break;
      await new Promise<void>((wake) => this.#roomWaiters.push(wake));
    }
    // A full buffer waiting for its blocks' verdicts, which come only with bytes after it: that next buffer
    // goes over the budget (taken as the second of a pair), else every upload holding one buffer so could
    // wait for ever. The first one of an upload under blocks is taken only with room for both.
    const first = this.#held[0];
    const waitsForVerdict =
      first !== undefined &&
      first.length === first.bytes.byteLength &&
      first.start + first.length > this.#verifiedEnd();
    const mode = waitsForVerdict ? 'overdraft' : this.gated && first === undefined ? 'pair' : 'within';
    const holding = this.#held.length + this.#sealed.length;
    const bytes = await buffers.take(Math.min(state.partSize, state.size - start), mode, holding);
    const held = { start, bytes, length: 0 };
    if (this.#failure !== undefined) {
      buffers.give(bytes);
      return held;
    }
    this.#held.push(held);
    return held;
  }

  /** Copies tail bytes read back (after a takeover, or a release that let go of memory) into a buffer. */
  async #reload(): Promise<void> {
    if (this.#held.length > 0 || this.#received === this.#sealedEnd) return;
    const chunks = this.#loadedTail ?? (await this.#owner.host.tails.readKeys(this.#tailKeys));
    this.#loadedTail = undefined;
    const held = await this.#newBuffer(this.#sealedEnd);
    for (const chunk of chunks) {
      held.bytes.set(chunk, held.length);
      held.length += chunk.byteLength;
    }
    if (held.start + held.length !== this.#received) throw new Error('The stored chunks changed.');
  }

  /** Seals full, verified buffers into parts while fewer than PARTS_IN_FLIGHT are unrecorded. */
  #seal(): void {
    const verified = this.#verifiedEnd();
    while (this.#failure === undefined && this.#sealed.length < PARTS_IN_FLIGHT) {
      const held = this.#held[0];
      if (!held || held.length < held.bytes.byteLength || held.start + held.length > verified) return;
      this.#held.shift();
      this.#sealedEnd = held.start + held.length;
      this.#startPart(held);
    }
  }

  /**
   * Hashes the part (on the hashing thread: s3-part-hasher.ts), then uploads it. Parts upload side by side;
   * they are recorded in order, as many as are stored when the state can next be written (#record).
   */
  #startPart(held: HeldBuffer): void {
    const { state, hasher, buffers } = this.#owner;
    const n = (state.nextPart ??= state.parts.length + 1);
    // Stored without block checks: a later resume with sha256-blocks cannot count these bytes as verified.
    if (!this.#verified) state.checked = false;
    state.nextPart = n + 1;
    const part: SealedPart = { n, size: held.length, end: held.start + held.length };
    this.#sealed.push(part);
    const bytes = held.bytes.subarray(0, held.length);
    const stored = (async () => {
      try {
        const hashed = await hasher.update(bytes);
        const etag = await uploadPart(this.#owner.host, state, n, bytes, hashed.partSha256);
        part.stored = { etag, hashState: hashed.state };
      } finally {
        // Only now: the hashing thread and the upload both read the bytes in place.
        buffers.give(held.bytes);
      }
    })();
    // Caught here and reported through the queue, in order; queued now, so that settling waits for it.
    stored.catch(() => undefined);
    void this.#queue(async () => {
      await stored;
      await this.#record();
    });
  }

  /**
   * Records every stored part at the front of the sealed ones in one conditional write of the state (parts
   * that finished while the last write was on its way go together), then deletes the tail objects they hold.
   */
  async #record(): Promise<void> {
    const { state, host } = this.#owner;
    let count = 0;
    while (count < this.#sealed.length && this.#sealed[count]!.stored) count++;
    if (count === 0) return;
    const parts = this.#sealed.slice(0, count);
    const last = parts.at(-1)!;
    const previous = {
      parts: state.parts,
      partsEnd: state.partsEnd,
      hashState: state.hashState,
      tails: state.tails,
    };
    state.parts = [
      ...state.parts,
      ...parts.map((part) => ({ n: part.n, etag: part.stored!.etag, size: part.size })),
    ];
    state.partsEnd = last.end;
    state.hashState = last.stored!.hashState;
    state.tails = [{ gen: state.claim.gen, from: last.end }];
    if (state.resumable) state.expiresAt = Date.now() + state.ttl;
    try {
      await this.#owner.saveState();
    } catch (error) {
      Object.assign(state, previous);
      throw error;
    }
    this.#sealed.splice(0, count);
    const obsolete = this.#tailKeys;
    this.#tailKeys = [];
    this.#tailEnd = last.end;
    // Their bytes are in the part: deleted in the background (a failure leaves garbage the final cleanup
    // of the upload, which lists its tail objects, removes).
    void host.tails.delete(obsolete);
    for (const wake of this.#roomWaiters.splice(0)) wake();
    this.#seal();
    this.#settleWaiters();
  }

  /** Runs `step` after every earlier one; a failure fails the pipeline. */
  #queue(step: () => Promise<void>): Promise<void> {
    const run = this.#serial.then(() => (this.#failure === undefined ? step() : undefined));
    this.#serial = run.catch((error: unknown) => this.fail(error));
    return this.#serial;
  }

  /** Waits until nothing more can be sealed and every sealed part is recorded (bounded: parts + 2 rounds). */
  async #settle(): Promise<void> {
    const rounds = Math.ceil(this.#owner.state.size / this.#owner.state.partSize) + 2;
    for (let i = 0; i < rounds; i++) {
      this.#seal();
      const serial = this.#serial;
      await serial;
      if (serial === this.#serial && this.#sealed.length === 0) return;
    }
  }

  /** Puts the verified bytes of the filling buffer past what is stored as one tail object. */
  async #putTail(): Promise<void> {
    const { state, host } = this.#owner;
    const held = this.#held[0];
    const from = this.durableEnd;
    if (!held || this.#sealed.length > 0 || held.start !== state.partsEnd) return;
    const to = Math.min(this.#verifiedEnd(), held.start + held.length);
    if (to <= from) return;
    const key = await host.tails.put(
      state.id,
      state.claim.gen,
      from,
      held.bytes.subarray(from - held.start, to - held.start),
    );
    this.#tailKeys.push(key);
    // The claim was still ours after the bytes were stored: a takeover reads them.
    await this.#owner.checkClaim();
    this.#tailEnd = to;
    this.#settleWaiters();
  }

  #settleWaiters(): void {
    // Acks still waiting and bytes not stored: the idle flush stores them unless more come.
    if (this.#waiters.length > 0) this.#armIdle();
    const durable = this.durableEnd;
    const verified = this.#verifiedEnd();
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (durable >= Math.min(waiter.offset, verified)) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /** While acks wait and no bytes come, the tail is stored after {@link IDLE_FLUSH_MS}. */
  #armIdle(): void {
    this.#deadline ??= setTimeout(() => {
      this.#deadline = undefined;
      if (this.#waiters.length === 0 || this.#failure !== undefined) return;
      void this.#queue(() => this.#putTail());
    }, MAX_ACK_DELAY_MS);
    if (this.#idle) {
      this.#idle.refresh();
      return;
    }
    this.#idle = setTimeout(() => {
      if (this.#waiters.length === 0 || this.#failure !== undefined) return;
      void this.#queue(() => this.#putTail());
    }, IDLE_FLUSH_MS);
    // Not unref'd: an ack waits for it (and it fires once, 15 ms after the last byte).
  }
}

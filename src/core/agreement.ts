/**
 * The agreement of one upload, as the client keeps it across connections: the negotiated terms, the
 * server's upload id, the id offered for resuming, the integrity that goes with the terms, and the resume
 * record. v1 is the starting point (V1_TERMS, NO_INTEGRITY, no id); a v2 grant replaces it; a server that
 * forgot the upload (404) sends it back to the start.
 */
import { agreedTerms, v1Terms, type StorAnswerV2, type Terms, type TransferType } from '../protocol/index.ts';
import { workerBlockDigest, type BlockDigest } from './block-digest.ts';
import { webCryptoDigest, type Digest } from './block-hasher.ts';
import { BlockIntegrity, NO_INTEGRITY, type Integrity } from './integrity.ts';
import type { EarlyPlan } from './early-data.ts';
import type { WarningDetail } from './events.ts';
import type { ResolvedOptions } from './options.ts';
import { unverifiedWarning } from './conversation.ts';
import { ResumeRecords } from './resume-records.ts';
import { fingerprint, NullResumeStore } from './resume-store.ts';
import { pauseRefusal, type PauseRefusal, type TransferState } from './transfer-state.ts';

/** What the client asked for, which a grant narrows. */
export interface AgreementLimits {
  window: number;
  encoding: TransferType;
  /** Whether the upload offered `reuse` (it shares sockets through a pool). */
  reuse: boolean;
}

/** One upload's terms, id and record. */
export class Agreement {
  readonly #records: ResumeRecords;
  readonly #limits: AgreementLimits;
  /** Whether this upload could continue later from a record: v2 offered, and a store that keeps records. */
  readonly #canResume: boolean;
  #terms: Terms;
  #uploadId: string | null = null;
  #offeredResume: string | null = null;
  readonly #file: Blob;
  /** WebCrypto's SHA-256 when `checksum` is on and this context has it; null: integrity is not offered. */
  readonly #digest: Digest | null;
  /** SHA-256 of whole blocks: in the digest Worker with WebCrypto's default, else `#digest` here. */
  readonly #blockDigest: BlockDigest | undefined;
  /** Kept across reconnections of one upload, so blocks already hashed are not hashed again. */
  #blocks: BlockIntegrity | null = null;
  #integrity: Integrity = NO_INTEGRITY;
  /** Whether `checksum` was asked for and the `warning` that it is not met is still to be given. */
  #warning: boolean;
  /** Early data under way: sent under the previous upload's terms on this socket until the STOR answer. */
  #early: EarlyPlan | null = null;

  /**
   * @param options - the transfer's file, URL and resume store (for the record), window and type (the limits),
   *   `checksum`, whether v2 is offered (default true) and the pool (connection reuse)
   * @param digest - SHA-256 (default: WebCrypto's, when this context has it, whole blocks in a Worker)
   */
  constructor(
    options: Pick<ResolvedOptions, 'file' | 'url' | 'resumeStore' | 'window' | 'type' | 'checksum'> &
      Partial<Pick<ResolvedOptions, 'offerV2' | 'connections'>>,
    digest?: Digest | null,
  ) {
    this.#records = new ResumeRecords(options.resumeStore, fingerprint(options.file, options.url));
    this.#limits = {
      window: options.window,
      encoding: options.type,
      reuse: (options.connections ?? null) !== null,
    };
    this.#canResume = (options.offerV2 ?? true) && !(options.resumeStore instanceof NullResumeStore);
    this.#terms = v1Terms(options.type);
    this.#file = options.file;
    const chosen = digest === undefined ? webCryptoDigest() : digest;
    this.#digest = options.checksum ? chosen : null;
    this.#blockDigest = digest === undefined && chosen ? workerBlockDigest(chosen) : undefined;
    this.#warning = options.checksum;
  }

  /**
   * Once, when `checksum` was asked for and the terms agreed none (no WebCrypto, or the server does not check
   * blocks): what the `warning` event says.
   *
   * @returns the warning's code and message, or null
   */
  unverifiedWarning(): Omit<WarningDetail, 'file'> | null {
    if (!this.#warning || this.#terms.integrity !== null) return null;
    this.#warning = false;
    return unverifiedWarning(this.offersIntegrity);
  }

  /** Whether block integrity is offered: `checksum` is on and WebCrypto is there. */
  get offersIntegrity(): boolean {
    return this.#digest !== null;
  }

  /** What the conversation agreed: v1 until a v2 STOR answer grants more. */
  get terms(): Terms {
    return this.#terms;
  }

  /** The server's id for this upload (v2); null while (or when) the conversation is v1. */
  get uploadId(): string | null {
    return this.#uploadId;
  }

  /** The id offered in the last STOR's `resume`, or null. */
  get offeredResume(): string | null {
    return this.#offeredResume;
  }

  /** Whether the upload can continue on another connection: a v2 id exists or was offered. */
  get resumable(): boolean {
    return this.#uploadId !== null || this.#offeredResume !== null;
  }

  /**
   * @param state - the transfer's state
   * @returns why the upload cannot pause (stop, to continue later from the record) now, or null when it can
   */
  pauseRefusal(state: TransferState): PauseRefusal | null {
    return pauseRefusal({ state, canResume: this.#canResume, uploadId: this.#uploadId });
  }

  /** The integrity of the terms: block SHA-256 when agreed, else the null object. */
  get integrity(): Integrity {
    return this.#integrity;
  }

  /**
   * Reads this file's resume record (an expired one is removed).
   *
   * @param now - ms since the epoch
   */
  loadRecord(now: number): void {
    this.#records.load(now);
  }

  /** @returns the id to offer in the next STOR: this upload's, else the resume record's, else null */
  offerResume(): string | null {
    this.#offeredResume = this.#uploadId ?? this.#records.current?.id ?? null;
    return this.#offeredResume;
  }

  /** The server answered as v1: nothing was resumed. */
  declineResume(): void {
    this.#offeredResume = null;
  }

  /**
   * Takes a v2 grant: the id, the terms (narrowed by the client's limits), the integrity that goes with them.
   *
   * @param stored - the v2 STOR answer
   * @returns the agreed terms
   */
  accept(stored: StorAnswerV2): Terms {
    if (this.#uploadId !== null && stored.id !== this.#uploadId) this.#blocks = null;
    this.#uploadId = stored.id;
    this.#early = null;
    this.#use(agreedTerms(stored, this.#limits));
    return this.#terms;
  }

  /** The early data under way (its terms are the socket's previous upload's, no id yet), or null. */
  get early(): EarlyPlan | null {
    return this.#early;
  }

  /**
   * Early data (docs/protocol.md §3.9): sends under the terms the server granted the previous upload on this
   * socket until this upload's STOR answer confirms them ({@link accept}) or says otherwise.
   *
   * @param plan - what goes before the answer, under the previous upload's terms (`early` granted)
   */
  acceptEarly(plan: EarlyPlan): void {
    this.#early = plan;
    this.#use(plan.terms);
  }

  /** No early data after this STOR (or it was abandoned with its connection). */
  endEarly(): void {
    this.#early = null;
  }

  #use(terms: Terms): void {
    this.#terms = terms;
    const { integrity, block } = this.#terms;
    if (integrity === 'sha256-blocks' && this.#digest) {
      if (this.#blocks?.block !== block)
        this.#blocks = new BlockIntegrity(this.#file, block, this.#digest, this.#blockDigest);
      this.#blocks.reconnected();
      this.#integrity = this.#blocks;
    } else {
      this.#integrity = NO_INTEGRITY;
    }
  }

  /** The server does not know the upload (any more): back to the start, record forgotten. */
  startOver(): void {
    this.#records.forget();
    this.#uploadId = null;
    this.#terms = v1Terms(this.#limits.encoding);
    this.#integrity = NO_INTEGRITY;
    this.#blocks = null;
  }

  /**
   * Writes the resume record after the server acknowledged up to `loaded` (v2 only; nothing under v1).
   *
   * @param loaded - bytes acknowledged
   */
  save(loaded: number): void {
    if (this.#uploadId === null) return;
    this.#records.save(this.#uploadId, loaded, this.#terms.expires, Date.now());
  }

  /**
   * The server acknowledged up to `loaded`: the record is rewritten (v2 only).
   *
   * @param loaded - bytes acknowledged
   * @returns true under v2, where an acknowledgement is progress a retry count restarts from
   */
  acknowledged(loaded: number): boolean {
    if (this.#uploadId === null) return false;
    this.save(loaded);
    return true;
  }

  /**
   * The upload is cancelled: its record is forgotten.
   *
   * @returns the id the server knows it by (to send ABOR for, so it deletes the partial upload), or null
   */
  abandon(): string | null {
    const id = this.#uploadId ?? this.#offeredResume;
    if (id !== null) this.forgetRecord();
    return id;
  }

  /** The upload ended (stored, aborted, or refused for good): its record is no longer useful. */
  forgetRecord(): void {
    this.#records.forget();
  }
}

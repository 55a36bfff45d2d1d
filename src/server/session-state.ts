/**
 * The state machine of one upload connection: one state field, a table of the transitions allowed, and one
 * method through which every change goes. What a state needs (the upload being received, the record of a
 * committed upload whose FIN is expected) travels inside the state, so no flag can contradict it.
 *
 *   ready ──STOR──▶ receiving ──last chunk / FIN / ABOR──▶ ready
 *   ready ──STOR resuming a committed upload──▶ finished ──FIN──▶ ready
 *   any but closed ──error, idle timeout, socket closed──▶ closed
 */
import type { BlockVerifier } from './block-verifier.ts';
import type { Agreement } from './agreement.ts';
import type { CompletedUpload, PartialUpload } from './stores/store.ts';

/** The upload a connection is receiving. */
export interface ReceivingUpload {
  partial: PartialUpload;
  /** What the STOR agreed (its terms; v1 is the smallest set) and how its answers look. */
  agreement: Agreement;
  /** Declared size in bytes. */
  size: number;
  /** Bytes the store holds (a resume starts at the partial upload's offset). */
  received: number;
  /** The name the client asked for. */
  requestedName: string;
  parameters: unknown;
  /** When the STOR arrived (ms since the epoch). */
  startedAt: number;
  /** The block checks when `sha256-blocks` was agreed, else null. */
  blocks: BlockVerifier | null;
}

/** Where a connection is: AUTH or STOR expected, data frames expected, FIN of a stored upload, or over. */
export type SessionState =
  // `emptyFrameDue`: an empty v1 file was just stored, and the 2012 client sends one empty data frame for it.
  | { readonly name: 'ready'; readonly emptyFrameDue?: boolean }
  | { readonly name: 'receiving'; readonly upload: ReceivingUpload }
  | { readonly name: 'finished'; readonly id: string; readonly record: CompletedUpload }
  | { readonly name: 'closed' };

/** The names of the states. */
export type SessionStateName = SessionState['name'];

/** From each state, the states it may change to. */
export const TRANSITIONS: Readonly<Record<SessionStateName, readonly SessionStateName[]>> = {
  // ready → ready: the empty data frame an empty v1 file was followed by is no longer expected.
  ready: ['ready', 'receiving', 'finished', 'closed'],
  receiving: ['ready', 'closed'],
  // A client that learnt its upload is stored may still start another one, or resume another stored one.
  finished: ['ready', 'receiving', 'finished', 'closed'],
  closed: [],
};

/** The ready state: nothing to carry. */
export const READY: SessionState = Object.freeze({ name: 'ready' });
/** The closed state: nothing to carry. */
export const CLOSED: SessionState = Object.freeze({ name: 'closed' });

/** Thrown for a change the table does not allow: a bug in the session, not bad input. */
export class IllegalTransition extends Error {
  constructor(from: SessionStateName, to: SessionStateName) {
    super(`Session state cannot change from ${from} to ${to}.`);
    this.name = 'IllegalTransition';
  }
}

/** Holds the one state field of a session. */
export class SessionStateMachine {
  #state: SessionState = READY;

  /** The current state. */
  get state(): SessionState {
    return this.#state;
  }

  /** Whether the connection is over. A getter, so TypeScript does not narrow it across an await. */
  get closed(): boolean {
    return this.#state.name === 'closed';
  }

  /** The upload being received, when receiving. */
  get upload(): ReceivingUpload | undefined {
    return this.#state.name === 'receiving' ? this.#state.upload : undefined;
  }

  /** Whether an upload is being received that holds nothing yet: a STOR just accepted at offset 0. */
  get receivingFromZero(): boolean {
    return this.#state.name === 'receiving' && this.#state.upload.received === 0;
  }

  /**
   * @param next - the name of a state
   * @returns whether the table allows changing to it now
   */
  can(next: SessionStateName): boolean {
    return TRANSITIONS[this.#state.name].includes(next);
  }

  /**
   * The one way the state changes.
   *
   * @param next - the new state
   * @returns the state it replaced
   * @throws {IllegalTransition} when the table does not allow it
   */
  to(next: SessionState): SessionState {
    const previous = this.#state;
    if (!this.can(next.name)) throw new IllegalTransition(previous.name, next.name);
    this.#state = next;
    return previous;
  }
}

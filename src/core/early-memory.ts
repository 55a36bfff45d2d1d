/**
 * The page's memory of which servers take early data (docs/protocol.md §3.9): per server URL, the terms of the
 * last upload there whose answer granted `early`. A fresh socket's first upload then sends its first bytes
 * right behind its STOR, as a socket that already carried an upload does, instead of waiting a round trip for
 * the answer. Kept for the page in memory and in `sessionStorage`, so a reload in the same tab keeps it; never
 * in `localStorage`: a server that is replaced (by a 2012 one, say) at the same URL is met at most once per tab
 * with bytes it did not ask for, and that once the answer does not take them and the memory forgets the URL.
 *
 * Every storage access is guarded (full, disabled, or throwing in a private window): the memory is a bonus,
 * never a reason for an upload to fail.
 */
import { PROTOCOL_V2, type Terms } from '../protocol/index.ts';

const PREFIX = 'ws-file-upload:early:';

/** The terms early data is sent under, as remembered: what {@link planEarly} and the answer's check read. */
type RememberedTerms = Pick<
  Terms,
  'encoding' | 'window' | 'maxChunk' | 'integrity' | 'block' | 'credit' | 'early' | 'fin'
>;

/** The servers that granted `early`, by URL. */
export class EarlyGrants {
  readonly #storage: Storage | null;
  readonly #terms = new Map<string, Terms>();

  /** @param storage - where a reload finds the memory again (null: this page only) */
  constructor(storage: Storage | null) {
    this.#storage = storage;
  }

  /**
   * The terms the server at `url` granted with `early` last, or null when it did not (or nothing is known).
   *
   * @param url - the upload server
   */
  recall(url: string): Terms | null {
    const known = this.#terms.get(url);
    if (known) return known;
    const stored = this.#read(url);
    if (stored) this.#terms.set(url, stored);
    return stored;
  }

  /**
   * The remembered terms when an upload that offers integrity as given would be granted them again (else its
   * early data would go under terms its answer does not take), or null. A v2 offer always offers binary
   * frames, and the same server grants the same algorithm and block to the same offer.
   *
   * @param url - the upload server
   * @param integrity - whether the upload offers integrity (checksum on, WebCrypto there)
   */
  recallFor(url: string, integrity: boolean): Terms | null {
    const terms = this.recall(url);
    return terms && (terms.integrity !== null) === integrity ? terms : null;
  }

  /**
   * Notes the terms of an upload the server at `url` answered; forgets the URL when they do not grant `early`.
   *
   * @param url - the upload server
   * @param terms - the terms its STOR answer granted
   */
  remember(url: string, terms: Terms): void {
    if (!terms.early) return this.forget(url);
    this.#terms.set(url, terms);
    const kept: RememberedTerms = {
      encoding: terms.encoding,
      window: terms.window,
      maxChunk: terms.maxChunk,
      integrity: terms.integrity,
      block: terms.block,
      credit: terms.credit,
      early: true,
      fin: terms.fin,
    };
    try {
      this.#storage?.setItem(PREFIX + url, JSON.stringify(kept));
    } catch {
      // Quota or privacy mode: the page's own memory still holds it.
    }
  }

  /**
   * The server at `url` did not take early data (or no longer grants it): no fresh socket sends any again.
   *
   * @param url - the upload server
   */
  forget(url: string): void {
    this.#terms.delete(url);
    try {
      this.#storage?.removeItem(PREFIX + url);
    } catch {
      // As in remember().
    }
  }

  /** Reads a remembered grant back, null for anything that is not one (a damaged or foreign entry). */
  #read(url: string): Terms | null {
    try {
      const text = this.#storage?.getItem(PREFIX + url);
      if (!text) return null;
      const kept = JSON.parse(text) as Partial<RememberedTerms>;
      const positive = (value: unknown) =>
        typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
      const valid =
        kept.early === true &&
        kept.fin === true &&
        kept.encoding === 'binary' &&
        positive(kept.window) &&
        positive(kept.maxChunk) &&
        (kept.credit === null || positive(kept.credit)) &&
        (kept.integrity === null || kept.integrity === 'sha256' || kept.integrity === 'sha256-blocks') &&
        (kept.block === 0 || positive(kept.block));
      if (!valid) return null;
      // Only what early data is sent under is remembered; the rest is the next answer's to grant.
      return {
        version: PROTOCOL_V2,
        encoding: 'binary',
        window: kept.window!,
        maxChunk: kept.maxChunk!,
        integrity: kept.integrity!,
        block: kept.block!,
        fin: true,
        resumable: false,
        expires: null,
        credit: kept.credit!,
        reuse: false,
        alive: null,
        early: true,
        coalesce: 0,
        hold: 0,
      };
    } catch {
      return null;
    }
  }
}

/** `sessionStorage` when this host has a working one, else null. */
function sessionStore(): Storage | null {
  try {
    const storage = (globalThis as { sessionStorage?: Storage }).sessionStorage;
    return storage ?? null;
  } catch {
    // A sandboxed frame throws on the mere access.
    return null;
  }
}

/** The page's memory, shared by every transfer and queue of the page (and kept over a reload by the tab). */
export const pageEarlyGrants = new EarlyGrants(sessionStore());

/**
 * The server's byte credits (protocol v2 flow control in bytes, docs/protocol.md §3.2): how many bytes each
 * upload may have on its way to this server, unacknowledged. One budget is shared by every upload that holds a
 * credit, and no upload gets more than the per-connection cap; so the credit of each shrinks as uploads start
 * and grows back as they end, and a session sends the new figure in its next ack. The bytes themselves wait in
 * the network and the kernel's socket buffers (backpressure.ts keeps the process's own share to about 1 MiB
 * per connection); the budget bounds how much all clients together may push at the server before it has
 * answered.
 */

/** What the server grants: the per-connection cap and the budget shared by every upload. */
export interface CreditLimits {
  /** The most bytes one upload may keep unacknowledged. */
  maxCredit: number;
  /** The most bytes all uploads together may keep unacknowledged. */
  creditBudget: number;
  /** No credit goes below this (a credit must let at least one chunk through; the client always may). */
  minCredit: number;
}

/** The shares of one server's budget. */
export class CreditBudget {
  readonly #limits: CreditLimits;
  readonly #holders = new Set<CreditGrant>();

  /** @param limits - the cap and the budget */
  constructor(limits: CreditLimits) {
    this.#limits = limits;
  }

  /** Uploads holding a credit now. */
  get holders(): number {
    return this.#holders.size;
  }

  /**
   * A credit for an upload that starts now; its share counts until {@link CreditGrant.end}.
   *
   * @returns the upload's grant
   */
  open(): CreditGrant {
    const grant = new CreditGrant(this);
    this.#holders.add(grant);
    return grant;
  }

  /** @returns one upload's share of the budget now, within the cap and the floor */
  share(): number {
    const { maxCredit, creditBudget, minCredit } = this.#limits;
    const share = Math.floor(creditBudget / Math.max(1, this.#holders.size));
    return Math.max(minCredit, Math.min(maxCredit, share));
  }

  /** @internal a grant ended */
  release(grant: CreditGrant): void {
    this.#holders.delete(grant);
  }
}

/** One upload's credit: what it was last told, and whether the share moved since. */
export class CreditGrant {
  readonly #budget: CreditBudget;
  #told: number | null = null;
  #ended = false;

  /** @param budget - the server's budget this grant is a share of */
  constructor(budget: CreditBudget) {
    this.#budget = budget;
  }

  /** @returns the credit for the STOR answer, which the client keeps to until an ack says otherwise */
  initial(): number {
    this.#told = this.#budget.share();
    return this.#told;
  }

  /** @returns the new credit when the share moved since the client was last told, else null */
  changed(): number | null {
    if (this.#ended) return null;
    const share = this.#budget.share();
    if (share === this.#told) return null;
    this.#told = share;
    return share;
  }

  /** The upload ended (stored, aborted, dropped): its share goes back to the others. Safe to call twice. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#budget.release(this);
  }
}

/** A session's side: the credit of the upload it is receiving, if that upload agreed to one. */
export class SessionCredit {
  readonly #budget: CreditBudget | undefined;
  #grant: CreditGrant | null = null;

  /** @param budget - the server's budget; none: no credit is ever granted */
  constructor(budget: CreditBudget | undefined) {
    this.#budget = budget;
  }

  /**
   * A STOR was accepted: the previous upload's credit (if any) ends, this one's starts when it offered one.
   *
   * @param offered - whether the STOR offered `credit`
   * @returns the credit for the grant, or undefined for none
   */
  start(offered: boolean): number | undefined {
    this.end();
    this.#grant = offered && this.#budget ? this.#budget.open() : null;
    return this.#grant?.initial();
  }

  /** @returns `{credit}` for the next ack when the upload's share moved since it was told, else `{}` */
  ackField(): { credit?: number } {
    const credit = this.#grant?.changed();
    return credit ? { credit } : {};
  }

  /** The upload ended (committed, aborted, closed): its share goes back to the others. */
  end(): void {
    this.#grant?.end();
    this.#grant = null;
  }
}

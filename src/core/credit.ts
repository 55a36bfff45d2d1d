/**
 * Flow control in bytes: how many bytes a v2 sender keeps unacknowledged when the server granted a byte
 * credit. Two bounds meet here. The server's credit (in its STOR answer, changed by later acks) is a hard
 * ceiling it may raise or lower at any time. Under it, the sender's own target follows the link: it measures
 * the round trip (the shortest time from sending a chunk to its ack) and the delivery rate (bytes the server
 * acknowledged while that chunk was on the way, over that time), and aims at twice their product — the
 * bandwidth-delay product with room for the ack clock's jitter. A long fat link so grows the target as far
 * as it can carry (each round trip roughly doubles it while the rate keeps up), while a slow link stops near
 * its own product instead of queueing seconds of data in buffers, which a cancel or a pause would have to
 * wait behind. A floor (the offer's window in bytes) keeps short and loopback links as fast as before.
 */

/** What one measured chunk needs: when it left and how much was acknowledged then. */
interface Departure {
  readonly at: number;
  readonly loadedBefore: number;
}

/** One delivery-rate sample, kept for {@link RATE_MEMORY} ms. */
interface RateSample {
  readonly at: number;
  /** Bytes per millisecond. */
  readonly rate: number;
}

/** How long a delivery-rate sample counts towards the maximum (ms); then a slower link shows. */
export const RATE_MEMORY = 2000;
/** The target is this many bandwidth-delay products. */
export const TARGET_BDP_MULTIPLE = 2;

/** The byte allowance of one upload: the server's credit over the sender's measured target. */
export class ByteCredit {
  readonly #now: () => number;
  #granted: number;
  readonly #floor: number;
  #departures: Departure[] = [];
  #samples: RateSample[] = [];
  #minRtt = Number.POSITIVE_INFINITY;
  #target: number;

  /**
   * @param granted - the server's credit in bytes
   * @param floor - bytes the sender keeps in flight whatever it measures (the offer's window in bytes)
   * @param now - a monotonic clock in ms
   */
  constructor(granted: number, floor: number, now: () => number) {
    this.#granted = Math.max(1, granted);
    this.#floor = Math.max(1, floor);
    this.#target = this.#floor;
    this.#now = now;
  }

  /** Bytes that may be unacknowledged now: the server's credit, or the measured target when smaller. */
  get allowance(): number {
    return Math.min(this.#granted, Math.max(this.#floor, this.#target));
  }

  /** The server's latest credit. */
  get granted(): number {
    return this.#granted;
  }

  /** The measured target before the server's ceiling (bytes). */
  get target(): number {
    return this.#target;
  }

  /** The shortest round trip measured (ms), Infinity before the first ack. */
  get minRtt(): number {
    return this.#minRtt;
  }

  /**
   * The server changed its credit (an ack carried a new one).
   *
   * @param bytes - the new credit
   */
  grant(bytes: number): void {
    this.#granted = Math.max(1, bytes);
  }

  /**
   * A chunk left.
   *
   * @param loaded - bytes acknowledged at that moment
   */
  sent(loaded: number): void {
    this.#departures.push({ at: this.#now(), loadedBefore: loaded });
  }

  /**
   * The oldest chunk in flight was acknowledged: one round-trip sample and one delivery-rate sample.
   *
   * @param loaded - bytes acknowledged now, this chunk included
   */
  acknowledged(loaded: number): void {
    const departure = this.#departures.shift();
    if (!departure) return;
    const now = this.#now();
    // A clock that did not move (coarse timers) gives no sample rather than an infinite rate.
    const rtt = now - departure.at;
    if (rtt <= 0) return;
    this.#minRtt = Math.min(this.#minRtt, rtt);
    this.#samples.push({ at: now, rate: (loaded - departure.loadedBefore) / rtt });
    while (this.#samples.length > 0 && this.#samples[0]!.at < now - RATE_MEMORY) this.#samples.shift();
    let maxRate = 0;
    for (const sample of this.#samples) maxRate = Math.max(maxRate, sample.rate);
    this.#target = TARGET_BDP_MULTIPLE * maxRate * this.#minRtt;
  }

  /** The connection dropped: what was in flight will be sent again and measured afresh. */
  drop(): void {
    this.#departures = [];
  }
}

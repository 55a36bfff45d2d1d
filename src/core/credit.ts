/**
 * Flow control in bytes: how many bytes a v2 sender keeps unacknowledged when the server granted a byte
 * credit. Two bounds meet here. The server's credit (in its STOR answer, changed by later acks) is a hard
 * ceiling it may raise or lower at any time. Under it, the sender's own target follows the link, from two
 * measurements per ack: the round trip of the chunk it acknowledges (from its sending to its ack) and the
 * delivery rate (bytes acknowledged while that chunk was on the way, over that time).
 *
 * - It starts at {@link INITIAL_CREDIT} (see {@link creditStart}; a `window` the caller gave, in bytes,
 *   instead): a link that needs less learns it from the first acks, and a long fat link does not wait for a
 *   ramp. On a real network TCP's own
 *   slow start opens from about 15 kB and doubles per round trip, so a credit that starts at megabytes and
 *   grows at least as fast never holds TCP back; on loopback (and the bench's link emulator) there is no slow
 *   start, and every round trip a credit ramp takes is lost, hence the large start and the fast growth.
 * - While the round trip stays near its minimum (no queue is building: the link has room), every ack grows
 *   the target by {@link GROWTH_PER_ACKED_BYTE} × its bytes — per ack, not per round trip, so the target
 *   can triple each round trip — up to {@link GROWTH_CAP} × what it measured (it grows toward the link, not
 *   past it on a short path where no queue shows), and never below twice the bandwidth-delay product.
 * - The rate is measured two ways, and the higher counts. Per chunk (bytes acknowledged while it was on the
 *   way, over its round trip) sees no more than the sender put in flight: a ramp from it doubles per round
 *   trip, as TCP's slow start, three round trips to fill 1 Gbit/s at 200 ms from 8 MiB. The ack clock (bytes
 *   acknowledged over the last {@link ACK_SPAN_SHARE} of a minimum round trip, over that span) sees the link:
 *   the first credit leaves in one burst, the link spaces it out at its rate, and its acks come back so
 *   spaced. So after the first round trip's acks the target is already twice the product, and the link is
 *   full from the second round trip on. Acks the server sends in batches (S3 parts) arrive at once: a span
 *   under {@link MIN_ACK_SPAN_MS} gives no ack-clock sample, and a rate too high from one is still bounded
 *   by the server's credit and undone by the fall-back below as soon as a queue shows.
 * - When the round trip rises well above its minimum (a queue is building: the link is full, the bytes only
 *   wait), the target falls back to twice the bandwidth-delay product, so a slow link holds about one product
 *   of queue (~a round trip) instead of seconds of data that a cancel or a pause would wait behind.
 */

/** What one measured chunk needs: when it left and how much was acknowledged then. */
interface Departure {
  readonly at: number;
  readonly loadedBefore: number;
}

/** One ack as the ack clock sees it: when it came and the bytes acknowledged then. */
interface AckMark {
  readonly at: number;
  readonly loaded: number;
}

/** One delivery-rate sample, kept for {@link RATE_MEMORY} ms. */
interface RateSample {
  readonly at: number;
  /** Bytes per millisecond. */
  readonly rate: number;
}

const MiB = 1024 * 1024;
/** How long a delivery-rate sample counts towards the maximum (ms); then a slower link shows. */
export const RATE_MEMORY = 2000;
/** The target is this many bandwidth-delay products when it follows the measurements. */
export const TARGET_BDP_MULTIPLE = 2;
/** Bytes the sender keeps in flight before it measured anything (unless the server granted less). */
export const INITIAL_CREDIT = 8 * MiB;
/** While no queue builds, each acknowledged byte adds this many bytes to the target. */
export const GROWTH_PER_ACKED_BYTE = 2;
/** Growth stops at this many times the measured target (twice the bandwidth-delay product), or at the start. */
export const GROWTH_CAP = 1;
/** The target never falls below this (about four chunks: the ack clock keeps running). */
export const MIN_TARGET = 1 * MiB;
/**
 * Queueing delay (round trip above its minimum) under which the link still has room: half the minimum round
 * trip, and at least this many ms (timers, event loops and the server's writes jitter by that much).
 */
export const GROW_QUEUE_MS = 10;
/** Queueing delay above which the target falls back: one minimum round trip, and at least this many ms. */
export const SHRINK_QUEUE_MS = 50;
/** The ack clock measures over this share of the minimum round trip (a burst of acks shorter shows whole). */
export const ACK_SPAN_SHARE = 1 / 4;
/** Acks closer together than this give no ack-clock sample (coarse timers, batched acks, a busy event loop). */
export const MIN_ACK_SPAN_MS = 10;

/**
 * Where a credit starts: the caller's `window` in bytes when it gave one (its own bound, as the chunk window
 * was), else {@link INITIAL_CREDIT} or the default window in bytes, whichever is larger.
 *
 * @param windowBytes - the offered window times the chunk size
 * @param windowGiven - whether the caller set `window`
 * @returns bytes in flight before anything is measured
 */
export function creditStart(windowBytes: number, windowGiven: boolean): number {
  return windowGiven ? windowBytes : Math.max(INITIAL_CREDIT, windowBytes);
}

/** The byte allowance of one upload: the server's credit over the sender's measured target. */
export class ByteCredit {
  readonly #now: () => number;
  #granted: number;
  #departures: Departure[] = [];
  #samples: RateSample[] = [];
  /** Recent acks, for the ack clock's rate: at most a round trip's worth ({@link ACK_SPAN_SHARE} of it). */
  #acks: AckMark[] = [];
  #minRtt = Number.POSITIVE_INFINITY;
  #target: number;

  readonly #start: number;
  /** The server's `hold`: it may keep acks back for this many bytes, so the target never goes below it. */
  readonly #floor: number;

  /**
   * @param granted - the server's credit in bytes
   * @param start - bytes the sender keeps in flight before it measured anything ({@link creditStart})
   * @param now - a monotonic clock in ms
   * @param floor - the server's `hold` (0: none): acks come in units this large, so the round trips measured
   *   swing by a unit's filling time, which looks like a queue; below it the sender would wait for acks the
   *   server holds back until the sender sends more (stop-and-wait per unit)
   */
  constructor(granted: number, start: number, now: () => number, floor = 0) {
    this.#granted = Math.max(1, granted);
    this.#floor = Math.max(0, floor);
    this.#start = this.#target = Math.max(1, start, this.#floor);
    this.#now = now;
  }

  /** Bytes that may be unacknowledged now: the server's credit, or the measured target when smaller. */
  get allowance(): number {
    return Math.min(this.#granted, this.#target);
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
   * The oldest chunk in flight was acknowledged: one round-trip sample and one delivery-rate sample, and the
   * target grows, holds or falls back by the queueing delay they show.
   *
   * @param loaded - bytes acknowledged now, this chunk included
   * @param length - bytes this ack acknowledged
   */
  acknowledged(loaded: number, length = 0): void {
    const departure = this.#departures.shift();
    if (!departure) return;
    const now = this.#now();
    // A clock that did not move (coarse timers) gives no sample rather than an infinite rate.
    const rtt = now - departure.at;
    if (rtt <= 0) return;
    this.#minRtt = Math.min(this.#minRtt, rtt);
    this.#samples.push({ at: now, rate: (loaded - departure.loadedBefore) / rtt });
    const ackRate = this.#ackClock(now, loaded);
    if (ackRate > 0) this.#samples.push({ at: now, rate: ackRate });
    while (this.#samples.length > 0 && this.#samples[0]!.at < now - RATE_MEMORY) this.#samples.shift();
    let maxRate = 0;
    for (const sample of this.#samples) maxRate = Math.max(maxRate, sample.rate);
    const measured = TARGET_BDP_MULTIPLE * maxRate * this.#minRtt;
    const queueing = rtt - this.#minRtt;
    if (queueing <= Math.max(this.#minRtt / 2, GROW_QUEUE_MS)) {
      const cap = Math.max(this.#start, GROWTH_CAP * measured);
      this.#target = Math.max(Math.min(this.#target + GROWTH_PER_ACKED_BYTE * length, cap), measured);
    } else if (queueing > Math.max(this.#minRtt, SHRINK_QUEUE_MS)) {
      this.#target = Math.max(MIN_TARGET, this.#floor, Math.min(this.#target, measured));
    }
  }

  /** The connection dropped: what was in flight will be sent again and measured afresh. */
  drop(): void {
    this.#departures = [];
    this.#acks = [];
  }

  /**
   * The rate acks arrive at: bytes acknowledged since the oldest ack within {@link ACK_SPAN_SHARE} of a
   * minimum round trip, over the time since; 0 when those acks span less than {@link MIN_ACK_SPAN_MS}.
   *
   * @param now - this ack's time
   * @param loaded - bytes acknowledged now
   * @returns bytes per ms, or 0 for no sample
   */
  #ackClock(now: number, loaded: number): number {
    const span = Math.max(MIN_ACK_SPAN_MS, this.#minRtt * ACK_SPAN_SHARE);
    this.#acks.push({ at: now, loaded });
    // Keep the newest ack at least `span` old (the window's start), drop the ones before it.
    while (this.#acks.length > 2 && this.#acks[1]!.at <= now - span) this.#acks.shift();
    const oldest = this.#acks[0]!;
    const elapsed = now - oldest.at;
    return elapsed >= MIN_ACK_SPAN_MS ? (loaded - oldest.loaded) / elapsed : 0;
  }
}

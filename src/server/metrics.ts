// prom-client is the well-kept Prometheus client for Node. It fits cleanly here because each server takes
// a Registry of its own (no global state shared between two servers in one process or between tests), and
// it gets the text format's escaping and HELP/TYPE lines right; default process metrics are not
// registered, so /metrics shows only what this server owns.
import { Counter, Gauge, Registry } from 'prom-client';

/** Live values the gauges read when scraped. */
export interface MetricSources {
  connections(): number;
  activeUploads(): number;
}

/** The counters and gauges of one upload server. */
export class UploadMetrics {
  /** The registry to scrape. */
  readonly registry = new Registry();
  readonly #started: Counter;
  readonly #completed: Counter;
  readonly #failed: Counter;
  readonly #bytes: Counter;
  readonly #errors: Counter<'code'>;
  readonly #refused: Counter<'reason'>;

  /** @param sources - where the gauges read their values */
  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.#started = new Counter({ name: 'wsfu_uploads_started_total', help: 'Uploads admitted.', registers });
    this.#completed = new Counter({
      name: 'wsfu_uploads_completed_total',
      help: 'Uploads stored in their final place.',
      registers,
    });
    this.#failed = new Counter({
      name: 'wsfu_uploads_failed_total',
      help: 'Uploads that ended without being stored (error answer or dropped connection).',
      registers,
    });
    this.#bytes = new Counter({
      name: 'wsfu_received_bytes_total',
      help: 'WebSocket message payload bytes received (commands and data, before base64 decoding).',
      registers,
    });
    this.#errors = new Counter({
      name: 'wsfu_errors_total',
      help: 'Error answers sent, by wire code.',
      labelNames: ['code'],
      registers,
    });
    this.#refused = new Counter({
      name: 'wsfu_upgrades_refused_total',
      help: 'WebSocket upgrades refused, by reason.',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'wsfu_connections',
      help: 'Open WebSocket connections.',
      registers,
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: 'wsfu_active_uploads',
      help: 'Uploads in progress.',
      registers,
      collect() {
        this.set(sources.activeUploads());
      },
    });
  }

  /** Counts an admitted upload. */
  uploadStarted(): void {
    this.#started.inc();
  }

  /** Counts a stored upload. */
  uploadCompleted(): void {
    this.#completed.inc();
  }

  /** Counts an upload that ended unstored. */
  uploadFailed(): void {
    this.#failed.inc();
  }

  /** Counts received payload bytes. */
  received(bytes: number): void {
    this.#bytes.inc(bytes);
  }

  /** Counts an error answer by its code. */
  error(code: number): void {
    this.#errors.inc({ code: String(code) });
  }

  /** Counts an upgrade refused before the WebSocket opened. */
  refused(reason: string): void {
    this.#refused.inc({ reason });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

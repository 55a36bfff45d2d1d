import { pino, type Logger, type LevelWithSilent } from 'pino';

/** The structured fields of one upload's log lines. */
export interface UploadLogFields {
  id: string;
  ip: string;
  filename?: string;
  size?: number;
  bytes?: number;
  durationMs?: number;
  code?: number;
  user?: string;
}

/**
 * A pino logger for the CLI: JSON lines on stdout, one per event, with the time as ISO text (readable in
 * a terminal, parsed by every log shipper).
 *
 * @param level - the least severe level written
 * @returns the logger
 */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ level, base: { service: 'ws-file-upload' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * Writes the upload lines through a logger, or nowhere when logging is off: a null object, so that the
 * server does not test `if (logger)` at every call.
 */
export class UploadLog {
  readonly #logger: Logger | undefined;

  /** @param logger - a pino logger, or false for none */
  constructor(logger: Logger | false) {
    this.#logger = logger || undefined;
  }

  /** One line when an upload is admitted. */
  started(fields: UploadLogFields): void {
    this.#logger?.info({ event: 'upload.start', ...fields }, 'upload started');
  }

  /** One line when an upload is in its final place. */
  stored(fields: UploadLogFields): void {
    this.#logger?.info({ event: 'upload.finish', ...fields }, 'upload stored');
  }

  /** One line when an upload ends unstored. */
  failed(fields: UploadLogFields & { reason: string }): void {
    this.#logger?.warn({ event: 'upload.fail', ...fields }, 'upload failed');
  }

  /** One line when a connection is refused before or at the upgrade, or closed by a limit. */
  refused(fields: { ip: string; code: number; reason: string }): void {
    this.#logger?.warn({ event: 'connection.refused', ...fields }, 'connection refused');
  }
}

/**
 * The S3 flags of `ws-file-upload-server` (`--s3-bucket NAME [--s3-prefix P] [--s3-endpoint URL]
 * [--s3-region R] [--s3-path-style]`) to an {@link S3Store}. Credentials never come from flags: the SDK
 * reads `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (or a profile, or an instance role) itself. Loaded by
 * the command only when `--s3-bucket` is given, so a file-store server never loads the SDK.
 */
import { S3Store } from './s3-store.ts';

/** The flags as parseArgs gives them. */
export interface S3Flags {
  's3-bucket'?: string;
  's3-prefix'?: string;
  's3-endpoint'?: string;
  's3-region'?: string;
  's3-path-style'?: boolean;
  overwrite?: boolean;
  naming?: string;
}

/**
 * @param flags - the flags as parsed
 * @param partMemory - `--s3-part-memory` in bytes (the command parses sizes: `64M`), NaN when malformed
 * @returns the store the flags describe
 */
export function s3StoreOf(flags: S3Flags, partMemory?: number): S3Store {
  if (partMemory !== undefined && !(partMemory >= 5 * 1024 * 1024)) {
    throw new RangeError('--s3-part-memory must be a size of at least one 5 MiB part, e.g. 64M.');
  }
  if (flags.naming !== undefined && flags.naming !== 'original') {
    throw new TypeError(
      '--naming sha256 is not available with --s3-bucket: the key of a multipart upload is fixed at its start, ' +
        'before the SHA-256 is known (docs/server.md, "The S3 store").',
    );
  }
  if (flags['s3-endpoint'] !== undefined && !/^https?:\/\/[^\s/]+/.test(flags['s3-endpoint'])) {
    throw new TypeError(`--s3-endpoint must be an http(s) URL; got ${flags['s3-endpoint']}.`);
  }
  return new S3Store({
    bucket: flags['s3-bucket'] ?? '',
    ...(flags['s3-prefix'] !== undefined ? { prefix: flags['s3-prefix'] } : {}),
    ...(flags['s3-endpoint'] !== undefined ? { endpoint: flags['s3-endpoint'] } : {}),
    ...(flags['s3-region'] !== undefined ? { region: flags['s3-region'] } : {}),
    pathStyle: flags['s3-path-style'] === true,
    overwrite: flags.overwrite === true,
    ...(partMemory !== undefined ? { partMemory } : {}),
  });
}

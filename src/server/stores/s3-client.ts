/**
 * The S3 side of the {@link S3Store}: one `@aws-sdk/client-s3` client built with settings that work against
 * AWS and against Ceph RGW 16, and the few facts about S3's answers the store decides on (not found,
 * precondition failed, an ETag's quotes). Credentials are never options: the SDK's own chain reads them
 * (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, instance roles).
 */
import { S3Client } from '@aws-sdk/client-s3';

/** Where the bucket is. */
export interface S3Connection {
  /** The bucket uploads go into. It must exist. */
  bucket: string;
  /** Key prefix of every object the store writes, e.g. `uploads/` (a missing trailing `/` is added). */
  prefix?: string;
  /** An S3-compatible endpoint, e.g. `http://127.0.0.1:7480` for Ceph RGW; AWS when omitted. */
  endpoint?: string;
  /** Default `us-east-1` (RGW answers another region's CreateBucket with `InvalidLocationConstraint`). */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which RGW and MinIO need. Default false. */
  pathStyle?: boolean;
  /** A client of one's own (tests, custom credentials); the four options above are then ignored. */
  client?: S3Client;
}

/**
 * The client. Checksums `WHEN_REQUIRED`: the SDK's default (≥ 3.729) sends stream bodies `aws-chunked`
 * with a trailing CRC32, which RGW 16 answers with 411 MissingContentLength; AWS accepts both.
 */
export function s3ClientFor(connection: S3Connection): S3Client {
  if (connection.client) return connection.client;
  return new S3Client({
    ...(connection.endpoint !== undefined ? { endpoint: connection.endpoint } : {}),
    region: connection.region ?? 'us-east-1',
    forcePathStyle: connection.pathStyle === true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The normalised key prefix: '' or ending in `/`. */
export function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  if (prefix.startsWith('/') || prefix.split('/').some((segment) => segment === '..')) {
    throw new TypeError(`Invalid S3 prefix: ${JSON.stringify(prefix)}`);
  }
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

interface S3ErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return (error as S3ErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/**
 * Whether S3 said the thing is not there. Any 404: RGW 16 answers ListParts of an aborted upload with
 * `NoSuchKey` where AWS says `NoSuchUpload`, and HeadObject's 404 has no body, hence no code.
 */
export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}

/** Whether a conditional request (If-Match / If-None-Match) lost: someone else wrote first. */
export function isPreconditionFailed(error: unknown): boolean {
  const status = statusOf(error);
  // 409 ConditionalRequestConflict: AWS, when two conditional writes of one key overlap.
  return status === 412 || status === 409;
}

/**
 * An ETag without its quotes. RGW 16 compares `If-Match` with the bare value (a quoted one never matches);
 * AWS accepts the bare value too.
 */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replaceAll('"', '');
}

/** A storage error with a code a session can report (see limits.ts `storageFailure`). */
export function s3Failure(message: string, cause?: unknown): Error {
  const name = (cause as S3ErrorShape | undefined)?.name;
  return Object.assign(new Error(name ? `${message} (${name})` : message, { cause }), {
    code: name ? `S3_${name}` : 'S3_ERROR',
  });
}

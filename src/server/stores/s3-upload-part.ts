/**
 * One UploadPart of an S3 upload, signed with the part's SHA-256 that the hashing thread already computed
 * (s3-part-hasher.ts). SigV4 signs the payload's SHA-256 (`x-amz-content-sha256`); given none, the SDK
 * hashes every part on the event loop (~4 ms per 5 MiB, measured in issue 13), as the whole-file hash did.
 * S3 checks the bytes against it (AWS: `XAmzContentSHA256Mismatch`), as it would the SDK's own.
 */
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { s3Failure } from './s3-client.ts';
import type { UploadState } from './s3-state.ts';
import type { S3UploadHost } from './s3-partial-upload.ts';

/**
 * @param host - the store (client, bucket)
 * @param state - the upload (key, multipart upload)
 * @param n - the part number
 * @param bytes - the part (not changed until this resolves)
 * @param sha256 - its SHA-256, hex
 * @returns the part's ETag
 */
export async function uploadPart(
  host: S3UploadHost,
  state: UploadState,
  n: number,
  bytes: Uint8Array,
  sha256: string,
): Promise<string> {
  const command = new UploadPartCommand({
    Bucket: host.bucket,
    Key: state.key,
    UploadId: state.multipartId,
    PartNumber: n,
    Body: bytes,
    ContentLength: bytes.byteLength,
  });
  command.middlewareStack.add(
    (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = sha256;
      return next(args);
    },
    // Before the signing step, which then takes the header as the payload's hash.
    { step: 'build', name: 'wsfuPartSha256' },
  );
  try {
    return (await host.s3.send(command)).ETag ?? '';
  } catch (error) {
    throw s3Failure(`Storing part ${n} of ${state.id} failed`, error);
  }
}

/**
 * Deterministic pseudo-random bytes (mulberry32): the same size and seed always give the same bytes, so a
 * failing byte comparison can be replayed, and the bytes cover every value (unlike a repeated pattern, which
 * hides chunk-boundary mistakes).
 *
 * @param size - how many bytes
 * @param seed - any 32-bit integer
 * @returns the bytes
 */
export function makeBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let state = (seed ^ size ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return bytes;
}

/**
 * A `File` of deterministic pseudo-random bytes (see {@link makeBytes}).
 *
 * @param size - how many bytes
 * @param name - the file name (default `file-<size>.bin`)
 * @param seed - any 32-bit integer
 * @returns the file
 */
export function makeFile(size: number, name = `file-${size}.bin`, seed = 1): File {
  return new File([makeBytes(size, seed)], name, { type: 'application/octet-stream' });
}

/**
 * Reads a Blob's bytes, to compare what a server stored with what was sent.
 *
 * @param blob - the blob
 * @returns its bytes
 */
export async function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}

// Integrity, step by step and without a socket: the running SHA-256 over the chunks sent, its saved states
// per unacknowledged chunk, a resume from the server's offset, and the null object when no checksum was agreed.
import { expect } from '@open-wc/testing';
import { encodeBase64, type Chunk } from '../../src/core/file-source.ts';
import { NO_INTEGRITY, Sha256Integrity } from '../../src/core/integrity.ts';
import { makeBytes } from '../helpers/make-file.ts';

async function digestOf(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return `sha256:${encodeBase64(new Uint8Array(digest))}`;
}

function chunkOf(bytes: Uint8Array, start: number, end: number): Chunk {
  const part = bytes.slice(start, end);
  return { start, end, payload: part.buffer, bytes: part };
}

const bytes = makeBytes(10_000, 7);
const file = new Blob([bytes]);

describe('Integrity', () => {
  it('NO_INTEGRITY hashes nothing and sends no checksum', async () => {
    await NO_INTEGRITY.seek(500, file, null);
    NO_INTEGRITY.beforeSend(123);
    NO_INTEGRITY.afterSend(chunkOf(bytes, 0, 10));
    expect(NO_INTEGRITY.stateAt(10)).to.equal(null);
    expect(NO_INTEGRITY.checksum()).to.equal(undefined);
  });

  it("hashes each chunk after it is sent and gives the whole file's SHA-256", async () => {
    const integrity = new Sha256Integrity();
    await integrity.seek(0, file, null);
    for (let at = 0; at < bytes.length; at += 3000) {
      const chunk = chunkOf(bytes, at, Math.min(at + 3000, bytes.length));
      integrity.beforeSend(chunk.start);
      integrity.afterSend(chunk);
    }
    expect(integrity.checksum()).to.equal(await digestOf(bytes));
  });

  it('refuses to send a chunk the digest is not at', async () => {
    const integrity = new Sha256Integrity();
    await integrity.seek(0, file, null);
    expect(() => integrity.beforeSend(10)).to.throw(/out of step/);
  });

  it('keeps a state per unacknowledged chunk, and drops those the server acknowledged', async () => {
    const integrity = new Sha256Integrity();
    await integrity.seek(0, file, null);
    integrity.afterSend(chunkOf(bytes, 0, 4000));
    integrity.afterSend(chunkOf(bytes, 4000, 8000));
    expect(integrity.stateAt(4000)).to.be.a('string');
    integrity.acknowledged(8000);
    expect(integrity.stateAt(4000)).to.equal(null);
    expect(integrity.stateAt(8000)).to.be.a('string');
  });

  it("continues from the server's offset after a drop: back to the state kept there, not from zero", async () => {
    const integrity = new Sha256Integrity();
    await integrity.seek(0, file, null);
    integrity.afterSend(chunkOf(bytes, 0, 4000));
    integrity.afterSend(chunkOf(bytes, 4000, 8000));
    // The server held only the first chunk when the connection dropped.
    await integrity.seek(4000, file, null);
    integrity.beforeSend(4000);
    integrity.afterSend(chunkOf(bytes, 4000, 10_000));
    expect(integrity.checksum()).to.equal(await digestOf(bytes));
  });

  it('resumes after a reload from a saved state, hashing from the file only what it does not cover', async () => {
    const first = new Sha256Integrity();
    await first.seek(0, file, null);
    first.afterSend(chunkOf(bytes, 0, 2000));
    const saved = { offset: 2000, state: first.stateAt(2000)! };
    // A new page: the server holds 6000 bytes (inside no chunk this side remembers); the record covers 2000.
    const second = new Sha256Integrity();
    await second.seek(6000, file, saved);
    second.beforeSend(6000);
    second.afterSend(chunkOf(bytes, 6000, 10_000));
    expect(second.checksum()).to.equal(await digestOf(bytes));
  });

  it('starts over on forget (a different upload)', async () => {
    const integrity = new Sha256Integrity();
    await integrity.seek(0, file, null);
    integrity.afterSend(chunkOf(bytes, 0, 4000));
    integrity.forget();
    expect(integrity.stateAt(4000)).to.equal(null);
    await integrity.seek(0, file, null);
    integrity.afterSend(chunkOf(bytes, 0, 10_000));
    expect(integrity.checksum()).to.equal(await digestOf(bytes));
  });
});

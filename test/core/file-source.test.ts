import { expect } from '@open-wc/testing';
import {
  encodeBase64,
  encodeBase64Portable,
  FileSource,
  READ_BLOCK_SIZE,
} from '../../src/core/file-source.ts';
import { makeBytes } from '../helpers/make-file.ts';
import { decodeBase64 } from '../helpers/mock-server.ts';

describe('FileSource', () => {
  it('reads binary chunks as fresh ArrayBuffers, the last one shorter', async () => {
    const bytes = makeBytes(2500);
    const source = new FileSource(new Blob([bytes]), 1000, 'binary');
    expect(source.size).to.equal(2500);
    const chunks = await Promise.all([0, 1000, 2000].map((start) => source.read(start)));
    expect(chunks.map(({ start, end }) => [start, end])).to.deep.equal([
      [0, 1000],
      [1000, 2000],
      [2000, 2500],
    ]);
    for (const chunk of chunks) {
      expect(chunk.payload).to.be.instanceOf(ArrayBuffer);
      expect(new Uint8Array(chunk.payload as ArrayBuffer)).to.deep.equal(bytes.slice(chunk.start, chunk.end));
    }
  });

  it('reads base64 chunks, each encoded on its own', async () => {
    const bytes = makeBytes(2500);
    const source = new FileSource(new Blob([bytes]), 1000, 'base64');
    const last = await source.read(2000);
    expect(last.payload).to.be.a('string');
    expect(decodeBase64(last.payload as string)).to.deep.equal(bytes.slice(2000));
  });

  it('loads one block from the chunk it reads, clipped to the file, and cuts later chunks from it', async () => {
    const bytes = makeBytes(10_000);
    const blob = new Blob([bytes]);
    const slices: [number | undefined, number | undefined][] = [];
    const slice = blob.slice.bind(blob);
    blob.slice = (start?: number, end?: number) => {
      slices.push([start, end]);
      return slice(start, end);
    };
    const source = new FileSource(blob, 1000, 'binary');
    await source.read(5000);
    const next = await source.read(6000);
    expect(slices).to.deep.equal([[5000, 10_000]]);
    expect(new Uint8Array(next.payload as ArrayBuffer)).to.deep.equal(bytes.slice(6000, 7000));
  });

  it('never loads more than one block at a time from a big file', async () => {
    const size = 3 * READ_BLOCK_SIZE + 5;
    const blob = new Blob([makeBytes(size)]);
    const slices: [number | undefined, number | undefined][] = [];
    const slice = blob.slice.bind(blob);
    blob.slice = (start?: number, end?: number) => {
      slices.push([start, end]);
      return slice(start, end);
    };
    const source = new FileSource(blob, 64 * 1024, 'binary');
    for (let at = 0; at < size; at += 64 * 1024) await source.read(at);
    expect(slices).to.deep.equal([
      [0, READ_BLOCK_SIZE],
      [READ_BLOCK_SIZE, 2 * READ_BLOCK_SIZE],
      [2 * READ_BLOCK_SIZE, 3 * READ_BLOCK_SIZE],
      [3 * READ_BLOCK_SIZE, size],
    ]);
  });
});

describe('FileSource.withChunks', () => {
  const spied = (bytes: Uint8Array<ArrayBuffer>) => {
    const blob = new Blob([bytes]);
    const slices: [number | undefined, number | undefined][] = [];
    const slice = blob.slice.bind(blob);
    blob.slice = (start?: number, end?: number) => {
      slices.push([start, end]);
      return slice(start, end);
    };
    return { blob, slices };
  };

  it('cuts chunks of the new size and type from the block the first source loaded, without reading again', async () => {
    const bytes = makeBytes(10_000);
    const { blob, slices } = spied(bytes);
    const first = new FileSource(blob, 10_000, 'base64');
    void first.read(0);
    const second = first.withChunks(4000, 'binary');
    expect(second.chunkSize).to.equal(4000);
    const chunks = await Promise.all([0, 4000, 8000].map((start) => second.read(start)));
    expect(slices).to.deep.equal([[0, 10_000]]);
    for (const chunk of chunks) {
      expect(chunk.payload).to.be.instanceOf(ArrayBuffer);
      expect(new Uint8Array(chunk.payload as ArrayBuffer)).to.deep.equal(bytes.slice(chunk.start, chunk.end));
    }
  });

  it('reads again when the block it was given failed to load', async () => {
    const bytes = makeBytes(5000);
    const { blob, slices } = spied(bytes);
    let fail = true;
    const slice = blob.slice;
    blob.slice = (start?: number, end?: number) => {
      const part = slice(start, end);
      if (fail) part.arrayBuffer = () => Promise.reject(new Error('unreadable'));
      return part;
    };
    const first = new FileSource(blob, 5000, 'binary');
    const failed = first.read(0);
    const second = first.withChunks(1000, 'binary');
    let error: unknown = null;
    await failed.catch((cause: unknown) => (error = cause));
    expect(error).to.be.instanceOf(Error);
    fail = false;
    const chunk = await second.read(0);
    expect(new Uint8Array(chunk.payload as ArrayBuffer)).to.deep.equal(bytes.slice(0, 1000));
    expect(slices).to.have.length(2);
  });
});

describe('encodeBase64', () => {
  for (const size of [0, 1, 2, 3, 4, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 100_000]) {
    it(`encodes ${size} bytes like btoa, natively and portably`, () => {
      const bytes = makeBytes(size, 3);
      const expected = btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(''));
      expect(encodeBase64(bytes)).to.equal(expected);
      expect(encodeBase64Portable(bytes)).to.equal(expected);
    });
  }

  it('encodes the bytes of a view, not of its whole buffer', () => {
    const view = makeBytes(10).subarray(2, 5);
    expect(encodeBase64(view)).to.equal(encodeBase64Portable(view));
    expect(decodeBase64(encodeBase64Portable(view))).to.deep.equal(view);
  });
});

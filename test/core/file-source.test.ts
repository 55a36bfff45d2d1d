import { expect } from '@open-wc/testing';
import {
  encodeBase64,
  encodeBase64Portable,
  DIRECT_READ_MIN,
  FileSource,
  READ_BLOCK_SIZE,
  SequentialReader,
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

  it('opens the file once for reads in file order, and reopens it where a read jumps', async () => {
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
    expect(slices).to.deep.equal([[5000, undefined]]);
    expect(new Uint8Array(next.payload as ArrayBuffer)).to.deep.equal(bytes.slice(6000, 7000));
    const back = await source.read(1000);
    expect(slices).to.deep.equal([
      [5000, undefined],
      [1000, undefined],
    ]);
    expect(new Uint8Array(back.payload as ArrayBuffer)).to.deep.equal(bytes.slice(1000, 2000));
  });

  it('reads a big chunk into its own buffer, uncopied, and small chunks from one block', async () => {
    const size = 3 * DIRECT_READ_MIN + 5;
    const bytes = makeBytes(size);
    const big = new FileSource(new Blob([bytes]), DIRECT_READ_MIN, 'binary');
    const chunks = await Promise.all([0, 1, 2, 3].map((i) => big.read(i * DIRECT_READ_MIN)));
    for (const chunk of chunks) {
      expect(chunk.bytes.buffer).to.equal(
        chunk.payload,
        'the payload is the buffer the bytes were read into',
      );
      expect(chunk.bytes).to.deep.equal(bytes.slice(chunk.start, chunk.end));
    }
    const small = new FileSource(new Blob([bytes]), 1000, 'binary');
    const [first, second] = await Promise.all([small.read(0), small.read(1000)]);
    expect(first.bytes.buffer).to.equal(second.bytes.buffer, 'both cut from one block');
    expect(first.bytes.buffer.byteLength).to.equal(Math.min(READ_BLOCK_SIZE, size));
    expect(second.bytes).to.deep.equal(bytes.slice(1000, 2000));
  });

  it('reads a big file in order, chunk after chunk, to the same bytes', async () => {
    const size = 3 * READ_BLOCK_SIZE + 5;
    const bytes = makeBytes(size);
    const source = new FileSource(new Blob([bytes]), 256 * 1024, 'binary');
    const reads = [];
    for (let at = 0; at < size; at += 256 * 1024) reads.push(source.read(at));
    const chunks = await Promise.all(reads);
    const joined = new Uint8Array(size);
    for (const chunk of chunks) joined.set(chunk.bytes, chunk.start);
    expect(joined).to.deep.equal(bytes);
  });

  it('fails a read when the file cannot be read, and reads again on the next call', async () => {
    const bytes = makeBytes(5000);
    const blob = new Blob([bytes]);
    const stream = blob.stream.bind(blob);
    let broken = true;
    blob.slice = () => {
      const part = new Blob([bytes]);
      part.stream = () => {
        if (!broken) return stream();
        return new ReadableStream({
          pull: (controller) => controller.error(new DOMException('gone', 'NotReadableError')),
        });
      };
      return part;
    };
    const source = new FileSource(blob, 1000, 'binary');
    let failure: unknown;
    await source.read(0).catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(DOMException);
    broken = false;
    const chunk = await source.read(0);
    expect(chunk.bytes).to.deep.equal(bytes.slice(0, 1000));
  });

  it('reads through the default reader where the stream is not a byte stream', async () => {
    const bytes = makeBytes(5000);
    const blob = new Blob([bytes]);
    blob.slice = (start?: number) => {
      const part = new Blob([bytes.slice(start)]);
      // Chunks of 700 bytes from a plain (not byte) stream, as a browser without byte streams hands out.
      part.stream = () => {
        let at = 0;
        const data = bytes.slice(start);
        return new ReadableStream<Uint8Array<ArrayBuffer>>({
          pull(controller) {
            if (at >= data.length) controller.close();
            else controller.enqueue(data.slice(at, (at += 700)));
          },
        });
      };
      return part;
    };
    const source = new FileSource(blob, 1000, 'binary');
    const chunks = await Promise.all([0, 1000, 2000, 3000, 4000].map((at) => source.read(at)));
    for (const chunk of chunks) expect(chunk.bytes).to.deep.equal(bytes.slice(chunk.start, chunk.end));
  });
});

describe('SequentialReader', () => {
  /** Counts the streams the blob's slices open, and how many were cancelled. */
  const counted = (bytes: Uint8Array<ArrayBuffer>) => {
    const blob = new Blob([bytes]);
    const streams = { opened: 0, cancelled: 0 };
    const slice = blob.slice.bind(blob);
    blob.slice = (start?: number, end?: number) => {
      const part = slice(start, end);
      const stream = part.stream.bind(part);
      part.stream = () => {
        streams.opened += 1;
        const real = stream();
        const getReader = real.getReader.bind(real) as (options?: {
          mode: 'byob';
        }) => ReadableStreamBYOBReader;
        (real as { getReader: unknown }).getReader = (options?: { mode: 'byob' }) => {
          const reader = getReader(options);
          const cancel = reader.cancel.bind(reader);
          reader.cancel = (reason?: unknown) => {
            streams.cancelled += 1;
            return cancel(reason);
          };
          return reader;
        };
        return real;
      };
      return part;
    };
    return { blob, streams };
  };

  it('drops the reads queued before close() instead of opening the file again', async () => {
    const { blob, streams } = counted(makeBytes(8 * 256 * 1024));
    const reader = new SequentialReader(blob);
    const reads = [0, 1, 2, 3].map((i) => reader.read(i * 262_144, (i + 1) * 262_144));
    reader.close();
    const outcomes = await Promise.allSettled(reads);
    expect(outcomes.map((outcome) => outcome.status)).to.deep.equal([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(streams.opened - streams.cancelled).to.equal(0, 'no stream left open');
  });

  it('reads 48 KiB chunks (the v1 default) through one stream, block after block', async () => {
    const size = 4 * READ_BLOCK_SIZE;
    const bytes = makeBytes(size);
    const { blob, streams } = counted(bytes);
    const source = new FileSource(blob, 48 * 1024, 'binary');
    for (let at = 0; at < size; at += 48 * 1024) {
      const chunk = await source.read(at);
      if (at % (20 * 48 * 1024) === 0) expect(chunk.bytes).to.deep.equal(bytes.slice(at, chunk.end));
    }
    expect(streams.opened).to.equal(1);
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
    expect(slices).to.deep.equal([[0, undefined]], 'one stream opened, at 0');
    for (const chunk of chunks) {
      expect(chunk.payload).to.be.instanceOf(ArrayBuffer);
      expect(new Uint8Array(chunk.payload as ArrayBuffer)).to.deep.equal(bytes.slice(chunk.start, chunk.end));
    }
  });

  describe('with a read unit (block integrity)', () => {
    /** A unit that records each read it inspects, handing the bytes on unchanged. */
    function recordingUnit(size: number) {
      const inspected: [number, number][] = [];
      const unit = {
        size,
        inspect: async (start: number, end: number, read: Promise<Uint8Array<ArrayBuffer>>) => {
          inspected.push([start, end]);
          return read;
        },
      };
      return { unit, inspected };
    }

    it('reads one unit at a time, inspected once, and sends its chunks as views of it, uncopied', async () => {
      const bytes = makeBytes(10_000);
      const { unit, inspected } = recordingUnit(4000);
      const source = new FileSource(new Blob([bytes]), 1000, 'binary', unit);
      const chunks = [];
      for (let start = 0; start < bytes.length; start += 1000) chunks.push(await source.read(start));
      expect(inspected).to.deep.equal([
        [0, 4000],
        [4000, 8000],
        [8000, 10_000],
      ]);
      for (const chunk of chunks) {
        expect(ArrayBuffer.isView(chunk.payload)).to.equal(true, 'a view of the unit, not a copy');
        expect(new Uint8Array(chunk.payload as Uint8Array)).to.deep.equal(
          bytes.slice(chunk.start, chunk.end),
        );
      }
      expect((chunks[1]!.payload as Uint8Array).buffer).to.equal((chunks[0]!.payload as Uint8Array).buffer);
    });

    it('ends a read that starts inside a unit at the unit’s end, so the next reads are whole units', async () => {
      const bytes = makeBytes(9000);
      const { unit, inspected } = recordingUnit(4000);
      const source = new FileSource(new Blob([bytes]), 1000, 'binary', unit);
      const chunks = [];
      for (let start = 2500; start < bytes.length; start += 1000) chunks.push(await source.read(start));
      // 2500–3500 fits in the first read; 3500–4500 would cross the unit's end, so its read runs to 4500.
      expect(inspected[0]).to.deep.equal([2500, 4000]);
      for (const chunk of chunks)
        expect(new Uint8Array(chunk.payload as Uint8Array)).to.deep.equal(
          bytes.slice(chunk.start, chunk.end),
        );
    });

    it('ignores a unit that is not a whole number of chunks, and any unit for base64', async () => {
      const bytes = makeBytes(5000);
      const odd = recordingUnit(2500);
      const chunk = await new FileSource(new Blob([bytes]), 1000, 'binary', odd.unit).read(0);
      expect(odd.inspected).to.deep.equal([]);
      expect(chunk.payload).to.be.instanceOf(ArrayBuffer);
      const text = recordingUnit(4000);
      await new FileSource(new Blob([bytes]), 1000, 'base64', text.unit).read(0);
      expect(text.inspected).to.deep.equal([]);
    });
  });

  it('reads again when the block it was given failed to load', async () => {
    const bytes = makeBytes(5000);
    const { blob, slices } = spied(bytes);
    let fail = true;
    const slice = blob.slice;
    blob.slice = (start?: number, end?: number) => {
      const part = slice(start, end);
      if (fail) {
        part.stream = () =>
          new ReadableStream({ pull: (controller) => controller.error(new Error('unreadable')) });
      }
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

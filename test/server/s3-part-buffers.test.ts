// The S3 store's node-wide part memory (s3-part-buffers.ts) and the session's ordered answers
// (ordered-replies.ts): the budget bounds what is handed out, waiters are served in order as buffers come
// back, buffers are reused, and answers behind a waiting ack keep their order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PartBuffers } from '../../src/server/stores/s3-part-buffers.ts';
import { OrderedReplies } from '../../src/server/ordered-replies.ts';

const MiB = 1024 * 1024;
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('PartBuffers', () => {
  it('hands out no more than the budget, then serves waiters in order as buffers come back', async () => {
    const buffers = new PartBuffers(10 * MiB);
    const a = await buffers.take(5 * MiB);
    const b = await buffers.take(5 * MiB);
    assert.equal(buffers.used, 10 * MiB);
    const served: string[] = [];
    const c = buffers.take(5 * MiB).then((buffer) => (served.push('c'), buffer));
    const d = buffers.take(5 * MiB).then((buffer) => (served.push('d'), buffer));
    await settled();
    assert.deepEqual(served, [], 'over the budget: waiting');
    buffers.give(a);
    assert.equal(await c, a, 'the buffer given back is reused');
    assert.deepEqual(served, ['c']);
    buffers.give(b);
    await d;
    assert.deepEqual(served, ['c', 'd']);
    assert.equal(buffers.used, 10 * MiB);
  });

  it('lets an overdraft through, and a part larger than the budget when nothing else is held', async () => {
    const buffers = new PartBuffers(4 * MiB);
    const big = await buffers.take(6 * MiB);
    assert.equal(big.byteLength, 6 * MiB, 'alone: taken although larger than the budget');
    const extra = await buffers.take(MiB, 'overdraft');
    assert.equal(buffers.used, 7 * MiB);
    let waited = false;
    const later = buffers.take(MiB).then(() => (waited = true));
    await settled();
    assert.equal(waited, false);
    buffers.give(big);
    buffers.give(extra);
    await later;
    assert.equal(buffers.used, MiB);
  });

  it('takes the first of a pair only with room for two', async () => {
    const buffers = new PartBuffers(10 * MiB);
    const held = await buffers.take(4 * MiB);
    let paired = false;
    const pair = buffers.take(4 * MiB, 'pair').then((buffer) => ((paired = true), buffer));
    await settled();
    assert.equal(paired, false, '4 MiB used: no room for two more');
    buffers.give(held);
    await pair;
    assert.equal(buffers.used, 4 * MiB);
  });

  it('serves the waiter holding the fewest buffers first, in arrival order among equals', async () => {
    const buffers = new PartBuffers(2 * MiB);
    const a = await buffers.take(MiB);
    const b = await buffers.take(MiB);
    const served: string[] = [];
    const wait = (name: string, holding: number) =>
      buffers.take(MiB, 'within', holding).then((buffer) => (served.push(name), buffer));
    const busy = wait('holds 3', 3);
    const first = wait('holds 0, first', 0);
    const second = wait('holds 0, second', 0);
    const one = wait('holds 1', 1);
    assert.equal(buffers.waiting, 4);
    buffers.give(a);
    buffers.give(b);
    buffers.give(await first);
    buffers.give(await second);
    await Promise.all([one, busy]);
    // The one wanting its fourth buffer came first but is served last — and is served, not starved.
    assert.deepEqual(served, ['holds 0, first', 'holds 0, second', 'holds 1', 'holds 3']);
    assert.equal(buffers.peak, 2 * MiB, 'never more than the budget at once');
    assert.equal(buffers.waited, 4);
  });
});

describe('OrderedReplies', () => {
  it('sends at once when nothing waits, and keeps later answers behind a waiting one', async () => {
    const replies = new OrderedReplies();
    const sent: string[] = [];
    replies.send(() => sent.push('first'));
    assert.deepEqual(sent, ['first']);
    let durable!: () => void;
    replies.send(() => sent.push('ack'), new Promise<void>((resolve) => (durable = resolve)));
    replies.send(() => sent.push('fin'));
    await settled();
    assert.deepEqual(sent, ['first'], 'FIN waits behind the ack');
    durable();
    await settled();
    assert.deepEqual(sent, ['first', 'ack', 'fin']);
  });

  it('reports a failed wait once and drops what was queued behind it', async () => {
    const replies = new OrderedReplies();
    const sent: string[] = [];
    const failures: unknown[] = [];
    replies.send(
      () => sent.push('ack'),
      Promise.reject(new Error('S3 down')),
      (error) => failures.push(error),
    );
    replies.send(
      () => sent.push('next'),
      Promise.resolve(),
      (error) => failures.push(error),
    );
    await settled();
    await settled();
    assert.deepEqual(sent, []);
    assert.equal(failures.length, 1);
    assert.match(String(failures[0]), /S3 down/);
  });
});

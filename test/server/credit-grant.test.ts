// The server's byte credits, step by step and without a socket: one budget shared by the uploads holding a
// credit, each share within the cap and the floor, an upload told again only when its share moved, and a
// share handed back exactly once when its upload ends. (Over real sockets: credit.test.ts.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreditBudget, SessionCredit } from '../../src/server/credit-grant.ts';

const KiB = 1024;
const limits = { maxCredit: 64 * KiB, creditBudget: 96 * KiB, minCredit: 16 * KiB };

describe('CreditBudget and CreditGrant', () => {
  it('gives one upload the cap, and splits the budget as uploads start, down to the floor', () => {
    const budget = new CreditBudget(limits);
    assert.equal(budget.share(), 64 * KiB, 'nobody holds a credit: the cap');
    const first = budget.open();
    assert.equal(first.initial(), 64 * KiB, 'alone: the cap, not the whole budget');
    const second = budget.open();
    assert.equal(second.initial(), 48 * KiB, 'two: half the budget each');
    const others = Array.from({ length: 8 }, () => budget.open());
    assert.equal(budget.holders, 10);
    assert.equal(budget.share(), 16 * KiB, 'ten: 9.6 KiB each would be under the floor');
    for (const grant of others) grant.end();
  });

  it('tells an upload its new credit once when its share moved, and nothing while it did not', () => {
    const budget = new CreditBudget(limits);
    const first = budget.open();
    first.initial();
    assert.equal(first.changed(), null, 'nothing moved');
    const second = budget.open();
    second.initial();
    assert.equal(first.changed(), 48 * KiB, 'a second upload started: the first is told its smaller share');
    assert.equal(first.changed(), null, 'told once');
    second.end();
    assert.equal(first.changed(), 64 * KiB, 'the other ended: the share grows back');
  });

  it('hands a share back once, however often end() is called, and an ended grant is told nothing', () => {
    const budget = new CreditBudget(limits);
    const a = budget.open();
    const b = budget.open();
    const c = budget.open();
    a.end();
    a.end();
    assert.equal(budget.holders, 2);
    assert.equal(a.changed(), null);
    b.end();
    c.end();
    assert.equal(budget.holders, 0);
  });
});

describe('SessionCredit', () => {
  it('grants a credit only to an upload that offered one, on a server with a budget', () => {
    assert.equal(new SessionCredit(undefined).start(true), undefined, 'no budget: no credit');
    const budget = new CreditBudget(limits);
    const session = new SessionCredit(budget);
    assert.equal(session.start(false), undefined, 'not offered: no credit');
    assert.equal(budget.holders, 0);
    assert.equal(session.start(true), 64 * KiB);
    assert.equal(budget.holders, 1);
  });

  it("ends the previous upload's credit at the next STOR, and puts a moved share in the next ack only", () => {
    const budget = new CreditBudget(limits);
    const one = new SessionCredit(budget);
    const two = new SessionCredit(budget);
    one.start(true);
    one.start(true); // the next upload on the same connection
    assert.equal(budget.holders, 1, "the first upload's share went back");
    assert.deepEqual(one.ackField(), {});
    two.start(true);
    assert.deepEqual(one.ackField(), { credit: 48 * KiB });
    assert.deepEqual(one.ackField(), {});
    two.end();
    assert.deepEqual(one.ackField(), { credit: 64 * KiB });
    one.end();
    one.end();
    assert.equal(budget.holders, 0);
    assert.deepEqual(one.ackField(), {}, 'ended: no credit in acks');
  });
});

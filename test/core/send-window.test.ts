// The send window, step by step: counting chunks in flight against the agreed window, without a socket.
import { expect } from '@open-wc/testing';
import { ByteCredit } from '../../src/core/credit.ts';
import { SendWindow } from '../../src/core/send-window.ts';

describe('SendWindow', () => {
  it('starts as v1: stop-and-wait, nothing sent', () => {
    const window = new SendWindow();
    expect([window.limit, window.inFlight, window.open, window.sent, window.loaded]).to.deep.equal([
      1,
      0,
      true,
      0,
      0,
    ]);
  });

  it('closes after one chunk under v1 and counts the ack by the length sent, not by bytesRead', () => {
    const window = new SendWindow();
    window.push(100);
    expect(window.open).to.equal(false);
    expect(window.sent).to.equal(100);
    expect(window.loaded).to.equal(0);
    // v1 does not check offsets: whatever the server says, the length sent is what counts.
    expect(window.acknowledge(undefined)).to.deep.equal({ ok: true, length: 100 });
    expect([window.open, window.loaded]).to.deep.equal([true, 100]);
  });

  it('keeps up to the granted window in flight and acknowledges oldest first', () => {
    const window = new SendWindow();
    window.restart(0, 3, true);
    window.push(10);
    window.push(20);
    expect(window.open).to.equal(true);
    window.push(30);
    expect([window.open, window.inFlight, window.sent]).to.deep.equal([false, 3, 60]);
    expect(window.acknowledge(10)).to.deep.equal({ ok: true, length: 10 });
    expect([window.open, window.inFlight, window.loaded]).to.deep.equal([true, 2, 10]);
    expect(window.acknowledge(30)).to.deep.equal({ ok: true, length: 20 });
    expect(window.acknowledge(60)).to.deep.equal({ ok: true, length: 30 });
    expect(window.loaded).to.equal(60);
  });

  it('refuses a v2 ack whose offset is not the one due, and counts nothing for it', () => {
    const window = new SendWindow();
    window.restart(1000, 2, true);
    window.push(50);
    expect(window.acknowledge(1049)).to.deep.equal({ ok: false, expected: 1050 });
    expect(window.loaded).to.equal(1000);
  });

  it('restarts from the server offset, and forgets what was in flight when the connection drops', () => {
    const window = new SendWindow();
    window.restart(0, 4, true);
    window.push(10);
    window.push(10);
    window.drop();
    expect([window.inFlight, window.sent]).to.deep.equal([0, 20]);
    window.restart(10, 4, true);
    expect([window.sent, window.loaded, window.inFlight]).to.deep.equal([10, 10, 0]);
  });

  it('never has a window below one', () => {
    const window = new SendWindow();
    window.restart(0, 0, false);
    expect(window.limit).to.equal(1);
  });

  it("keeps the server's hold in flight once told it after early data, within the granted credit", () => {
    const window = new SendWindow();
    // Started before the answer (early data): the sender's own target is 100 bytes, no floor.
    window.restart(0, 64, true, new ByteCredit(1000, 100, () => 0));
    window.push(100);
    expect(window.fits(100)).to.equal(false);
    window.hold(400);
    for (let chunk = 1; chunk < 4; chunk++) {
      expect(window.fits(100)).to.equal(true);
      window.push(100);
    }
    expect(window.fits(100)).to.equal(false, 'not past the hold');
    window.hold(5000);
    for (let chunk = 4; chunk < 10; chunk++) window.push(100);
    expect(window.fits(100)).to.equal(false, 'never past the granted credit');
    window.restart(0, 64, true, new ByteCredit(1000, 100, () => 0));
    window.push(100);
    expect(window.fits(100)).to.equal(false, 'a restart forgets it');
  });

  describe('with coalesced acks agreed', () => {
    it('counts every chunk up to the offset of one ack, and only whole chunks', () => {
      const window = new SendWindow();
      window.restart(0, 8, true);
      window.coalesce(300);
      for (let chunk = 0; chunk < 5; chunk++) window.push(100);
      expect(window.acknowledge(300)).to.deep.equal({ ok: true, length: 300 });
      expect([window.inFlight, window.inFlightBytes, window.loaded]).to.deep.equal([2, 200, 300]);
      // Inside a chunk, or past what was sent: a mismatch naming the next chunk's end, nothing counted.
      expect(window.acknowledge(350)).to.deep.equal({ ok: false, expected: 400 });
    });

    it('refuses an offset past what was sent or one that does not move', () => {
      const window = new SendWindow();
      window.restart(0, 8, true);
      window.coalesce(300);
      window.push(100);
      window.push(100);
      expect(window.acknowledge(300)).to.deep.equal({ ok: false, expected: 100 });
      expect(window.acknowledge(0)).to.deep.equal({ ok: false, expected: 100 });
    });

    it('is one ack per chunk again after a restart, and never under v1', () => {
      const window = new SendWindow();
      window.restart(0, 8, true);
      window.coalesce(300);
      window.restart(0, 8, true);
      window.push(100);
      window.push(100);
      expect(window.acknowledge(200)).to.deep.equal({ ok: false, expected: 100 });
      const v1 = new SendWindow();
      v1.coalesce(300);
      v1.push(100);
      expect(v1.acknowledge(undefined)).to.deep.equal({ ok: true, length: 100 });
    });

    it('keeps twice the coalesced bytes in flight under a smaller credit target, within the granted credit', () => {
      const window = new SendWindow();
      // The sender's own target starts at 100 bytes; the server granted 1000.
      window.restart(0, 64, true, new ByteCredit(1000, 100, () => 0));
      window.push(100);
      expect(window.fits(100)).to.equal(false);
      window.coalesce(300);
      for (let chunk = 1; chunk < 6; chunk++) {
        expect(window.fits(100)).to.equal(true);
        window.push(100);
      }
      expect([window.inFlightBytes, window.fits(100)]).to.deep.equal([600, false]);
      const tight = new SendWindow();
      tight.restart(0, 64, true, new ByteCredit(250, 100, () => 0));
      tight.coalesce(300);
      tight.push(100);
      tight.push(100);
      expect(tight.fits(100)).to.equal(false);
    });
  });
});

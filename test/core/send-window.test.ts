// The send window, step by step: counting chunks in flight against the agreed window, without a socket.
import { expect } from '@open-wc/testing';
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
});

// A queued file's new transfer, without a socket (nothing is started): which failures may be met with a fresh
// token (a provider's token, or one `prepare` gave: both are asked again; a fixed token or a login are not),
// and a queue without a url failing that file with a message instead of throwing at the page.
import { expect } from '@open-wc/testing';
import { ConnectionPool } from '../../src/core/connection-pool.ts';
import { WebSocketFileTransfer } from '../../src/core/web-socket-file-transfer.ts';
import { newEntry } from '../../src/core/queue-items.ts';
import { QUEUE_DEFAULTS, type ResolvedQueueOptions } from '../../src/core/queue-options.ts';
import { transferFor } from '../../src/core/queue-transfer.ts';
import { makeFile } from '../helpers/make-file.ts';

const options = (changes: Partial<ResolvedQueueOptions> = {}): ResolvedQueueOptions => ({
  ...QUEUE_DEFAULTS,
  url: 'ws://upload.test/queue',
  ...changes,
});

function refreshable(queue: ResolvedQueueOptions, prepared = {}): boolean {
  const made = transferFor(queue, new ConnectionPool(), newEntry(1, makeFile(10)), prepared);
  if (!made.ok) throw made.error;
  expect(made.transfer).to.be.instanceOf(WebSocketFileTransfer);
  expect(made.transfer.state).to.equal('idle');
  return made.refreshable;
}

describe('transferFor', () => {
  it('makes an idle transfer; a 401 is worth a fresh token only when a token can be asked for again', () => {
    expect(refreshable(options())).to.equal(false);
    expect(refreshable(options({ auth: { login: 'ann', password: 'x' } }))).to.equal(false);
    expect(refreshable(options({ auth: { token: 'fixed' } }))).to.equal(false);
    expect(refreshable(options({ auth: { token: () => 'fresh' } }))).to.equal(true);
    expect(refreshable(options(), { token: 'from-prepare' })).to.equal(true);
  });

  it('fails the file, not the page, when the queue has no url yet', () => {
    const made = transferFor(
      options({ url: undefined }),
      new ConnectionPool(),
      newEntry(1, makeFile(10)),
      {},
    );
    expect(made.ok).to.equal(false);
    if (made.ok) return;
    expect(made.error.code).to.equal('connectionFailed');
    expect(made.error.message).to.match(/"url" is not set/);
  });
});

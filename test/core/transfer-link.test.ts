// A transfer's hold on the server (transfer-link.ts), by its public behaviour: a socket of its own or a lease
// from the queue's pool, the generation bumped on every connection, frames sent on the connection of now, the
// release, and the bounded rejoin of a shared socket that closed before the upload's STOR was answered.
import { expect } from '@open-wc/testing';
import { ConnectionPool } from '../../src/core/connection-pool.ts';
import { browserEnvironment } from '../../src/core/environment.ts';
import { MAX_REJOINS, TransferLink } from '../../src/core/transfer-link.ts';
import { V1_TERMS } from '../../src/protocol/index.ts';
import { CountingServer, recordedHandlers } from '../helpers/socket-tenants.ts';
import { until } from '../helpers/transfer-events.ts';

describe('TransferLink', () => {
  let server: CountingServer;
  beforeEach(() => {
    server = new CountingServer();
  });
  afterEach(() => server.stop());

  /** A pool whose socket carried a first upload that was granted reuse and handed over (sent its FIN). */
  async function poolAfterHandOver(): Promise<ConnectionPool> {
    const pool = new ConnectionPool();
    const first = recordedHandlers();
    const firstLink = new TransferLink(server.env, server.url, pool, first.handlers);
    firstLink.connect('');
    await until(() => first.heard.includes('open'), 'the socket to open');
    firstLink.connection!.grantReuse({ ...V1_TERMS, reuse: true });
    firstLink.connection!.handOver();
    return pool;
  }

  it('opens a socket of its own, counts the generation and sends on it', async () => {
    const { handlers, heard } = recordedHandlers();
    const link = new TransferLink(server.env, server.url, null, handlers);
    expect([link.connection, link.generation]).to.deep.equal([null, 0]);
    expect(link.connect('')).to.equal(null);
    expect(link.generation).to.equal(1);
    await until(() => heard.includes('open'), 'the socket to open');
    link.send('STOR: {}');
    await until(() => server.frames[0]?.length === 1, 'the frame');
    expect(server.frames[0]).to.deep.equal(['STOR: {}']);
  });

  it('lets go of the connection: true when it closed an open socket, then refuses to send', async () => {
    const { handlers, heard } = recordedHandlers();
    const link = new TransferLink(server.env, server.url, null, handlers);
    link.connect('');
    await until(() => heard.includes('open'), 'the socket to open');
    expect(link.release()).to.equal(true);
    expect(link.connection).to.equal(null);
    expect(() => link.send('x')).to.throw('No connection.');
    await until(() => server.closed[0] === true, 'the socket to close');
    expect(link.release()).to.equal(false, 'nothing left to let go of');
  });

  it('reports a host without WebSocket as notSupported, not as a throw', () => {
    const link = new TransferLink(
      { ...browserEnvironment(), webSocket: () => undefined },
      server.url,
      null,
      recordedHandlers().handlers,
    );
    const failure = link.connect('');
    expect(failure?.code).to.equal('notSupported');
    expect(link.connection).to.equal(null);
  });

  it('leases from the pool: a second upload joins the socket the first handed over', async () => {
    const pool = await poolAfterHandOver();

    const second = recordedHandlers();
    const secondLink = new TransferLink(server.env, server.url, pool, second.handlers);
    expect(secondLink.connect('')).to.equal(null);
    await until(() => second.heard.includes('open'), 'the second upload to start');
    expect(server.clients.length).to.equal(1, 'one socket for both');
    expect(secondLink.connection!.shared).to.equal(true);
  });

  it(`starts over on a fresh socket at most ${MAX_REJOINS} times (a shared one closed under an unanswered STOR)`, async () => {
    const pool = await poolAfterHandOver();

    const secondLink = new TransferLink(server.env, server.url, pool, recordedHandlers().handlers);
    secondLink.connect('');
    // No answer reached the second upload yet: its socket's close was the first upload's doing.
    const tries = Array.from({ length: MAX_REJOINS + 1 }, () => secondLink.mayStartOver());
    expect(tries).to.deep.equal([...Array<boolean>(MAX_REJOINS).fill(true), false]);
  });
});

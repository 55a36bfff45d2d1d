// The queue's pool of shared sockets (connection-pool.ts), by its public behaviour: one socket per file until
// the server grants reuse; then the next upload joins the socket the last one handed over (after its FIN),
// answers reach the tenants in line order, a tenant that ends in anything but success retires the socket,
// identities never share, and an idle queue closes what is left. In-page sockets (mock-socket), no server.
import { expect } from '@open-wc/testing';
import { ConnectionPool } from '../../src/core/connection-pool.ts';
import type { ConnectionLike } from '../../src/core/connection.ts';
import { browserEnvironment } from '../../src/core/environment.ts';
import { V1_TERMS } from '../../src/protocol/index.ts';
import { CountingServer, recordedHandlers } from '../helpers/socket-tenants.ts';
import { until } from '../helpers/transfer-events.ts';

const REUSE = { ...V1_TERMS, reuse: true };

describe('ConnectionPool', () => {
  let server: CountingServer;
  beforeEach(() => {
    server = new CountingServer();
  });
  afterEach(() => server.stop());

  /** A first upload's lease, granted reuse, that has handed its socket over (sent its FIN). */
  async function handedOver(pool: ConnectionPool) {
    const first = await openLease(pool);
    first.lease.grantReuse(REUSE);
    first.lease.handOver();
    return first;
  }

  /** A lease that has heard its socket open. */
  async function openLease(pool: ConnectionPool, auth = '') {
    const tenant = recordedHandlers();
    const lease = pool.lease(server.env, server.url, auth, tenant.handlers) as ConnectionLike;
    expect('code' in lease).to.equal(false);
    await until(() => tenant.heard.includes('open'), 'the lease to open');
    return { lease, heard: tenant.heard };
  }

  it('gives each file a socket of its own while the server has not granted reuse', async () => {
    const pool = new ConnectionPool();
    const first = await openLease(pool);
    first.lease.handOver(); // no reuse: the hand-over is not taken
    expect(pool.handedOver).to.equal(0);
    await openLease(pool);
    expect(server.clients.length).to.equal(2);
    expect(first.lease.release(true)).to.equal(true);
    await until(() => server.closed[0] === true, 'the first socket to close: it is not reused');
  });

  it('lets the next upload join after a hand-over, and answers reach the first tenant in line first', async () => {
    const pool = new ConnectionPool();
    let handOvers = 0;
    pool.onHandOver = () => (handOvers += 1);
    const first = await handedOver(pool);
    expect(pool.handedOver).to.equal(1);
    await until(() => handOvers === 1, 'the pool to tell the queue a slot is free');

    const second = await openLease(pool);
    expect(server.clients.length).to.equal(1);
    expect([second.lease.shared, second.lease.unanswered]).to.deep.equal([true, true]);
    first.lease.send('after FIN'); // nothing more of an upload that handed over may go on the socket
    second.lease.send('STOR 2');
    server.clients[0]!.send('FIN answer');
    await until(() => first.heard.includes('message:FIN answer'), 'the first tenant to hear its answer');
    expect(first.lease.release(true)).to.equal(true);
    expect(pool.handedOver).to.equal(0);
    server.clients[0]!.send('STOR 2 answer');
    await until(() => second.heard.includes('message:STOR 2 answer'), 'the second tenant to hear its own');
    expect(second.lease.unanswered).to.equal(false);
    expect(second.heard.filter((event) => event.startsWith('message:'))).to.deep.equal([
      'message:STOR 2 answer',
    ]);
    await until(() => server.frames[0]!.length === 1, 'the frames');
    expect(server.frames[0]).to.deep.equal(['STOR 2']);
  });

  it('never shares a socket between identities', async () => {
    const pool = new ConnectionPool();
    const alice = await openLease(pool, 'AUTH: {"login":"alice"}');
    alice.lease.grantReuse(REUSE);
    alice.lease.handOver();
    await openLease(pool, 'AUTH: {"login":"bob"}');
    expect(server.clients.length).to.equal(2);
  });

  it('retires a socket whose tenant failed: the tenant behind it hears the close', async () => {
    const pool = new ConnectionPool();
    const first = await handedOver(pool);
    const second = await openLease(pool);
    first.lease.release(false);
    await until(
      () => second.heard.some((event) => event.startsWith('close:')),
      'the second tenant to hear it',
    );
    expect(server.closed[0]).to.equal(true);
    expect(pool.size).to.equal(0);
    await openLease(pool);
    expect(server.clients.length).to.equal(2, 'the next upload gets a fresh socket');
  });

  it('takes no new upload on a socket once a tenant failed, even one that had handed over', async () => {
    const pool = new ConnectionPool();
    await handedOver(pool);
    const second = await openLease(pool);
    second.lease.handOver();
    second.lease.release(false); // e.g. cancelled after its FIN went out
    await openLease(pool);
    expect(server.clients.length).to.equal(2, 'the third upload opens a fresh socket');
  });

  it('closes the sockets no upload uses when the queue goes idle', async () => {
    const pool = new ConnectionPool();
    const first = await handedOver(pool);
    first.lease.release(true);
    expect(pool.size).to.equal(1, 'kept open for the next file');
    pool.closeIdle();
    expect(pool.size).to.equal(0);
    await until(() => server.closed[0] === true, 'the socket to close');
  });

  it('reports a missing or throwing WebSocket as a failure, not a throw', () => {
    const pool = new ConnectionPool();
    const none = pool.lease(
      { ...browserEnvironment(), webSocket: () => undefined },
      server.url,
      '',
      recordedHandlers().handlers,
    );
    expect('code' in none && none.code).to.equal('notSupported');
    const throwing = pool.lease(browserEnvironment(), 'ws://[', '', recordedHandlers().handlers);
    expect('code' in throwing && throwing.code).to.equal('connectionFailed');
    expect(pool.size).to.equal(0);
  });
});

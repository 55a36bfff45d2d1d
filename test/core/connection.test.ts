// The side connection that carries an ABOR when no socket is open (a paused or reconnecting upload is
// cancelled): AUTH then ABOR, sent again while the server answers 409 (the upload's last connection is not
// released yet), bounded; closed once the ABOR is answered otherwise.
import { expect } from '@open-wc/testing';
import { Server, type Client } from 'mock-socket/dist/mock-socket.es.mjs';
import { sendAside } from '../../src/core/connection.ts';
import { browserEnvironment } from '../../src/core/environment.ts';
import { MockWebSocketClass, uniqueUrl } from '../helpers/mock-server.ts';
import { until } from '../helpers/transfer-events.ts';

describe('sendAside (ABOR on a side connection)', () => {
  it('sends ABOR again while the server answers 409, then closes', async () => {
    const url = uniqueUrl();
    const server = new Server(url, { mock: false });
    const frames: string[] = [];
    let closed = false;
    server.on('connection', (client: Client) => {
      client.on('message', (data) => {
        frames.push(String(data));
        if (!String(data).startsWith('ABOR')) return;
        const aborts = frames.filter((frame) => frame.startsWith('ABOR')).length;
        const code = aborts < 3 ? 409 : 200;
        client.send(JSON.stringify({ type: 'ABOR', code, message: code === 200 ? 'Deleted' : 'In use' }));
      });
      (client as unknown as { on(type: 'close', cb: () => void): void }).on('close', () => (closed = true));
    });
    try {
      sendAside(browserEnvironment(MockWebSocketClass), url, ['AUTH: {"token":"t"}', 'ABOR: {"id":"u_1"}']);
      await until(() => closed, 'the side connection to close', 4000);
      expect(frames).to.deep.equal([
        'AUTH: {"token":"t"}',
        'ABOR: {"id":"u_1"}',
        'ABOR: {"id":"u_1"}',
        'ABOR: {"id":"u_1"}',
      ]);
    } finally {
      server.stop();
    }
  });

  it('gives up after a bounded number of 409s', async () => {
    const url = uniqueUrl();
    const server = new Server(url, { mock: false });
    let aborts = 0;
    server.on('connection', (client: Client) => {
      client.on('message', () => {
        aborts += 1;
        client.send(JSON.stringify({ type: 'ABOR', code: 409, message: 'In use' }));
      });
    });
    try {
      sendAside(browserEnvironment(MockWebSocketClass), url, ['ABOR: {"id":"u_2"}']);
      await until(() => aborts === 5, 'the first ABOR and four more', 4000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(aborts).to.equal(5, 'no more after the last delay');
    } finally {
      server.stop();
    }
  });
});

// <ws-file-upload> pause and resume in a real browser: the row's pause and resume buttons, the `pause` and
// `resume` events, the paused state (accessible), resuming on a new connection from the server's offset, and
// no pause against a v1 server (no button; pause() says why). The server is the multi-client mock with its
// v2 grant; the real server is exercised in test/compat/pause.test.ts and test/e2e/pause.test.ts.
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { WsFileUpload, type WsFileUploadEventMap } from '../../src/element/ws-file-upload.ts';
import { makeBytes } from '../helpers/make-file.ts';
import { serve, stopServers, part, text, untilStatuses } from '../helpers/element-fixtures.ts';

afterEach(() => {
  stopServers();
  localStorage.clear();
});

function fileOf(size: number, name: string, seed: number): { file: File; bytes: Uint8Array } {
  const bytes = makeBytes(size, seed);
  return { file: new File([bytes], name), bytes };
}

describe('<ws-file-upload> pause and resume', () => {
  it('pauses from the row button, stays accessible, and resumes on a new connection from the offset', async function (this: MochaContext) {
    this.timeout(30_000); // four axe runs: slow in WebKit on a loaded machine, not a speed claim
    const server = serve({ v2: true, hold: true });
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url=${server.url} auto></ws-file-upload>`);
    const { file, bytes } = fileOf(300_000, 'p.bin', 5);
    const onDocument: Event[] = [];
    for (const type of ['pause', 'resume'] as const)
      document.addEventListener(type, (e) => onDocument.push(e));
    el.addFiles([file]);
    await waitUntil(() => server.held === 1, 'the first chunk');
    server.release(); // the first ack: sending, and the server now holds 64 KiB
    await waitUntil(() => server.held === 1, 'the second chunk');
    await untilStatuses(el, ['sending']);
    expect(el.items[0]!.pausable).to.equal(true);
    await waitUntil(() => part(el, 'pause-button') !== null, 'the pause button');
    expect(part(el, 'pause-button')!.getAttribute('aria-label')).to.equal('Pause p.bin');
    expect(part(el, 'resume-button')).to.equal(null);
    await expect(el).to.be.accessible();

    const paused = oneEvent(el, 'pause');
    part(el, 'pause-button')!.focus();
    await sendKeys({ press: 'Enter' });
    const event = (await paused) as WsFileUploadEventMap['pause'];
    expect(event.detail.file).to.equal(file);
    expect(event.bubbles).to.equal(false);
    await untilStatuses(el, ['paused']);
    expect(text(part(el, 'status'))).to.equal('Paused');
    expect(part(el, 'pause-button')).to.equal(null);
    expect(part(el, 'resume-button')!.getAttribute('aria-label')).to.equal('Resume p.bin');
    expect(part(el, 'cancel-button')).not.to.equal(null, 'a paused file can still be cancelled');
    // The bar keeps what the server acknowledged.
    expect(part(el, 'progress')!.getAttribute('aria-valuenow')).to.equal(
      String(Math.floor((65536 / 300_000) * 100)),
    );
    await waitUntil(() => server.open === 0, 'the socket to close');
    expect(el.checkValidity()).to.equal(false, 'a paused file is not uploaded yet');
    await expect(el).to.be.accessible();
    const connectionsWhilePaused = server.connections.length;
    const heldAtPause = server.heldBy('u_1').length;
    expect(heldAtPause).to.be.at.least(65536);

    // Keyboard: the button that paused is the one that resumes (focus stays on it); Tab reaches cancel.
    expect(el.shadowRoot!.activeElement).to.equal(part(el, 'resume-button'), 'focus stays on the button');
    await sendKeys({ press: 'Tab' });
    expect(el.shadowRoot!.activeElement).to.equal(part(el, 'cancel-button'));
    // Back by focus(), not Shift+Tab: WebKit's WebDriver runner presses single keys only.
    part(el, 'resume-button')!.focus();
    const resumed = oneEvent(el, 'resume');
    // ' ' rather than 'Space': puppeteer's WebDriver BiDi keyboard (Firefox) knows no 'Space' key name.
    await sendKeys({ press: ' ' });
    expect(((await resumed) as WsFileUploadEventMap['resume']).detail.file).to.equal(file);
    server.release(true);
    await untilStatuses(el, ['complete']);
    expect(server.connections.length).to.equal(connectionsWhilePaused + 1);
    const last = server.connections.at(-1)!;
    expect(last.resumed).to.equal('u_1', 'the new STOR resumes the upload');
    // Continued from the server's offset (what it held, acknowledged or not): nothing before it is sent again.
    expect(last.bytes.length).to.equal(300_000 - heldAtPause);
    expect(server.heldBy('u_1')).to.deep.equal(bytes);
    expect(onDocument).to.have.length(0, 'pause and resume stay on the host');
    await expect(el).to.be.accessible();
  });

  it('offers no pause against a v1 server, and pause() says why', async () => {
    const server = serve({ hold: true });
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url=${server.url} auto></ws-file-upload>`);
    const { file } = fileOf(200_000, 'v1.bin', 6);
    el.addFiles([file]);
    await waitUntil(() => server.held === 1, 'the first chunk');
    server.release();
    await untilStatuses(el, ['sending']);
    expect(el.items[0]!.pausable).to.equal(false);
    expect(part(el, 'pause-button')).to.equal(null);
    const result = el.pause(file);
    expect(result.paused).to.deep.equal([]);
    expect(result.refused).to.have.length(1);
    expect(result.refused[0]!.reason).to.equal('notResumable');
    expect(result.refused[0]!.message).to.equal(
      el.i18n.pauseRefused?.notResumable ??
        'This upload cannot pause: the server cannot resume it. Cancel it instead.',
    );
    expect(el.items[0]!.status).to.equal('sending');
    server.release(true);
    await untilStatuses(el, ['complete']);
  });

  it('pause() and resume() without a file act on every file; a queued file is held', async () => {
    const server = serve({ v2: true });
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload url=${server.url} multiple></ws-file-upload>`,
    );
    el.addFiles([fileOf(1000, 'a.bin', 1).file, fileOf(1000, 'b.bin', 2).file]);
    await untilStatuses(el, ['queued', 'queued']);
    expect(part(el, 'upload-button')).not.to.equal(null);
    const result = el.pause();
    expect(result.paused).to.have.length(2);
    await untilStatuses(el, ['paused', 'paused']);
    expect(part(el, 'upload-button')).to.equal(null, 'nothing is waiting to start');
    await expect(el).to.be.accessible();
    expect(el.resume()).to.have.length(2);
    await untilStatuses(el, ['queued', 'queued']);
    el.upload();
    await untilStatuses(el, ['complete', 'complete']);
  });
});

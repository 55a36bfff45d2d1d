// The element opens its connection while the user is still choosing files (UploadQueue.preconnect): on a drag
// of files over it, when files are added without `auto`, and through preconnect(); the first upload then goes
// over that socket instead of opening its own. Against the multi-client mock server (a v1 server: one socket
// per file, so the preconnected one carries the first file only).
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/element/ws-file-upload.ts';
import type { WsFileUpload } from '../../src/element/ws-file-upload.ts';
import { makeFile } from '../helpers/make-file.ts';
import { part, serve, stopServers, untilStatuses } from '../helpers/element-fixtures.ts';

afterEach(() => {
  stopServers();
});

function dragEnter(el: WsFileUpload, files: File[]): DragEvent {
  const data = new DataTransfer();
  for (const file of files) data.items.add(file);
  const event = new DragEvent('dragenter', {
    dataTransfer: data,
    bubbles: true,
    cancelable: true,
    composed: true,
  });
  part(el, 'drop-zone')!.dispatchEvent(event);
  return event;
}

describe('<ws-file-upload> preconnect', () => {
  it('opens a connection when files are dragged in; the first upload uses it, nothing sent before', async () => {
    const server = serve();
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url=${server.url}></ws-file-upload>`);
    expect(server.connections.length).to.equal(0);
    const file = makeFile(3000, 'dragged.bin');
    expect(dragEnter(el, [file]).defaultPrevented).to.equal(true);
    await waitUntil(() => server.connections.length === 1, 'a connection opened on dragenter');
    expect(server.connections[0]!.stor, 'nothing sent on it yet').to.equal(undefined);
    dragEnter(el, [file]);
    el.addFiles([file]);
    el.upload();
    await untilStatuses(el, ['complete']);
    expect(server.connections.length, 'the file went over the preconnected socket').to.equal(1);
    expect(server.connections[0]!.filename).to.equal('dragged.bin');
    expect(server.connections[0]!.bytes.length).to.equal(3000);
  });

  it('opens one when files are added without auto, and none of its own with auto', async () => {
    const server = serve();
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload url=${server.url} multiple></ws-file-upload>`,
    );
    el.addFiles([makeFile(1000, 'a.bin')]);
    await waitUntil(() => server.connections.length === 1, 'a connection opened for the queued file');
    el.upload();
    await untilStatuses(el, ['complete']);
    expect(server.connections.length).to.equal(1);
    const auto = serve();
    const other = await fixture<WsFileUpload>(html`<ws-file-upload url=${auto.url} auto></ws-file-upload>`);
    other.addFiles([makeFile(1000, 'b.bin')]);
    await untilStatuses(other, ['complete']);
    expect(auto.connections.length, 'auto: the upload opened the only socket').to.equal(1);
  });

  it('preconnect() returns whether it opened one: not twice, not without a url', async () => {
    const server = serve();
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url=${server.url}></ws-file-upload>`);
    expect(el.preconnect()).to.equal(true);
    expect(el.preconnect()).to.equal(false);
    await waitUntil(() => server.connections.length === 1, 'one connection');
    const none = await fixture<WsFileUpload>(html`<ws-file-upload></ws-file-upload>`);
    expect(none.preconnect()).to.equal(false);
  });
});

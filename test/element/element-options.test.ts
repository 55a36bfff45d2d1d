// The element's upload options: the attribute converters step by step, and attributes and properties
// reaching the wire (the STOR offer), the resume store and the WebSocket constructor in a real browser.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { ResumeRecord, ResumeStore } from '../../src/core/index.ts';
import { inRange, millisecondList, onUnlessOff, optionalNumber } from '../../src/element/element-options.ts';
import { WsFileUpload } from '../../src/element/ws-file-upload.ts';
import { makeFile } from '../helpers/make-file.ts';
import { serve, stopServers } from '../helpers/element-fixtures.ts';

afterEach(() => {
  stopServers();
  localStorage.clear();
});

/** The `ext` of the v2 offer in a STOR frame, or null for a 2012 STOR. */
function offer(stor: string | undefined): Record<string, unknown> | null {
  const json = JSON.parse(stor!.replace(/^\s*STOR:\s*/, '')) as { v?: number; ext?: Record<string, unknown> };
  return json.v === 2 ? json.ext! : null;
}

describe('element options', () => {
  it('reads attributes: numbers, on-by-default switches and millisecond lists', () => {
    expect(optionalNumber.fromAttribute('12')).to.equal(12);
    expect(optionalNumber.fromAttribute(' ')).to.equal(undefined);
    expect(optionalNumber.fromAttribute('x')).to.equal(undefined);
    for (const on of [null, '', 'on', 'true', 'sha256'])
      expect(onUnlessOff.fromAttribute(on), String(on)).to.equal(true);
    for (const off of ['off', 'FALSE', ' none ', '0'])
      expect(onUnlessOff.fromAttribute(off), off).to.equal(false);
    expect(millisecondList.fromAttribute('0, 500,2000')).to.deep.equal([0, 500, 2000]);
    expect(millisecondList.fromAttribute('')).to.deep.equal([], 'an empty list never reconnects');
    expect(millisecondList.fromAttribute('100,-1')).to.equal(
      undefined,
      'a bad list is ignored, not half-used',
    );
    expect(millisecondList.fromAttribute('1.5')).to.equal(undefined);
    expect(millisecondList.fromAttribute(null)).to.equal(undefined);
    expect(inRange(16, 1, 64)).to.equal(16);
    expect(inRange(65, 1, 64)).to.equal(undefined);
    expect(inRange(Infinity, 0, Infinity)).to.equal(Infinity);
  });

  it('offers v2 with the window, chunk size and integrity the attributes say', async () => {
    const server = serve({ v2: true });
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload
        url=${server.url}
        auto
        window="3"
        v2-chunk-size="1000"
        checksum="off"
      ></ws-file-upload>`,
    );
    el.addFiles([makeFile(5000, 'o.bin')]);
    await waitUntil(() => el.items[0]?.status === 'complete', 'the upload');
    const ext = offer(server.connections[0]!.stor)!;
    expect(ext.window).to.equal(3);
    expect(ext.chunk).to.equal(1000);
    expect(ext.checksum).to.deep.equal([]);
    // The server granted 64 KiB chunks; the client keeps to its own 1000.
    expect(server.heldBy('u_1').length).to.equal(5000);
  });

  it('falls back to the defaults for out-of-range values, and sends the 2012 STOR with offer-v2="off"', async () => {
    const server = serve({ v2: true });
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload url=${server.url} auto multiple window="999" v2-chunk-size="-1"></ws-file-upload>`,
    );
    el.addFiles([makeFile(100, 'a.bin')]);
    await waitUntil(() => el.items[0]?.status === 'complete', 'the first upload');
    const ext = offer(server.connections[0]!.stor)!;
    expect(ext.window).to.equal(16);
    expect(ext.chunk).to.equal(1048576);
    expect(ext.checksum).to.deep.equal(['sha256-blocks']);
    el.setAttribute('offer-v2', 'off');
    el.addFiles([makeFile(100, 'b.bin')]);
    await waitUntil(() => el.items[1]?.status === 'complete', 'the second upload');
    expect(offer(server.connections[1]!.stor)).to.equal(null);
    expect(el.items[1]!.pausable).to.equal(false);
  });

  it('uses the resume store and the WebSocket constructor given as properties', async () => {
    const server = serve({ v2: true });
    const written: ResumeRecord[] = [];
    const store: ResumeStore = {
      get: () => null,
      set: (_key, record) => void written.push(record),
      remove: () => undefined,
    };
    let constructed = 0;
    const Counting = class extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        constructed += 1;
      }
    };
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url=${server.url} auto></ws-file-upload>`);
    el.resumeStore = store;
    el.webSocket = Counting;
    el.retryDelays = [0];
    el.addFiles([makeFile(70_000, 'r.bin')]);
    await waitUntil(() => el.items[0]?.status === 'complete', 'the upload');
    expect(constructed).to.equal(1);
    expect(written.length).to.be.greaterThan(0);
    expect(written[0]!.id).to.equal('u_1');
  });
});

// The list, rows and summary come from list-view.ts, loaded with import() when the element first has files
// (list-view-controller.ts). Its own test page, so the module is not loaded yet when the first element gets
// files: `updateComplete` still resolves with the rows there, the summary shows with several files, and a
// removed file's row goes. The element is the real one; no server is needed (nothing starts without `auto`).
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/element/ws-file-upload.ts';
import type { WsFileUpload } from '../../src/element/ws-file-upload.ts';
import { makeFile } from '../helpers/make-file.ts';
import { part, parts } from '../helpers/element-fixtures.ts';

describe('the list view, loaded when first needed', () => {
  it("a page's first element with files has its rows once updateComplete resolves", async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload multiple></ws-file-upload>`);
    expect(part(el, 'file-list')).to.equal(null, 'no list without files');
    el.addFiles([makeFile(10, 'a.bin'), makeFile(20, 'b.bin')]);
    await el.updateComplete;
    expect(
      parts(el, 'file').map((row) => row.querySelector('[part="file-name"]')?.textContent),
    ).to.deep.equal(['a.bin', 'b.bin']);
    expect(part(el, 'summary')).to.not.equal(null, 'the summary line of several files');
    el.removeFile(el.items[0]!.file);
    // Queue events render once per animation frame, not at once.
    await waitUntil(() => parts(el, 'file').length === 1, 'the removed row to go');
  });

  it('a later element starts with the loaded view: its rows come with its first update', async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload></ws-file-upload>`);
    el.addFiles([makeFile(10, 'c.bin')]);
    await el.updateComplete;
    expect(parts(el, 'file').length).to.equal(1);
  });
});

import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { WsFileUpload, type WsFileUploadEventMap } from '../../src/element/ws-file-upload.ts';
import { makeBytes, makeFile } from '../helpers/make-file.ts';
import { serve, stopServers, part, parts, text, untilStatuses } from '../helpers/element-fixtures.ts';

afterEach(() => {
  stopServers();
});

/** Records events of the given types on a target, with whether they bubbled. */
function listen(target: EventTarget, types: (keyof WsFileUploadEventMap)[]): CustomEvent[] {
  const seen: CustomEvent[] = [];
  for (const type of types) target.addEventListener(type, (event) => seen.push(event as CustomEvent));
  return seen;
}

describe('<ws-file-upload>', () => {
  it('is registered under its tag by the entry module', () => {
    expect(customElements.get('ws-file-upload')).to.equal(WsFileUpload);
    expect(document.createElement('ws-file-upload')).to.be.instanceOf(WsFileUpload);
  });

  describe('when empty', () => {
    it('is accessible', async () => {
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x"></ws-file-upload>`);
      await expect(el).to.be.accessible();
    });

    it('renders a drop zone with a label and a picker button, and no list', async () => {
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x"></ws-file-upload>`);
      for (const name of ['base', 'drop-zone', 'drop-label', 'button'])
        expect(part(el, name), name).not.to.equal(null);
      expect(text(part(el, 'drop-label'))).to.equal('Drop a file here');
      expect(text(part(el, 'button'))).to.equal('Choose file…');
      expect(part(el, 'file-list')).to.equal(null);
      expect(part(el, 'upload-button')).to.equal(null);
      el.multiple = true;
      await el.updateComplete;
      expect(text(part(el, 'button'))).to.equal('Choose files…');
    });

    it('shows slotted content for the drop label and the button', async () => {
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url="ws://x">
          <span slot="drop-label">Put reports here</span><span slot="button">Browse</span>
        </ws-file-upload>`,
      );
      const labelSlot = part(el, 'drop-label')!.querySelector('slot')!;
      const buttonSlot = part(el, 'button')!.querySelector('slot')!;
      expect(text(labelSlot.assignedElements()[0]!)).to.equal('Put reports here');
      expect(text(buttonSlot.assignedElements()[0]!)).to.equal('Browse');
    });
  });

  describe('with queued files (no auto)', () => {
    it('lists each file with name, size, an empty bar, a status and a cancel button, plus Upload', async () => {
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" multiple></ws-file-upload>`);
      el.addFiles([makeFile(1500, 'a.bin'), makeFile(2_500_000, 'b.bin')]);
      await untilStatuses(el, ['queued', 'queued']);
      const rows = parts(el, 'file');
      expect(text(rows[0]!.querySelector('[part~="file-name"]'))).to.equal('a.bin');
      expect(text(rows[0]!.querySelector('[part~="file-size"]'))).to.equal('1.5 kB');
      expect(text(rows[1]!.querySelector('[part~="file-size"]'))).to.equal('2.5 MB');
      const bar = rows[0]!.querySelector('[part~="progress"]')!;
      expect(bar.getAttribute('role')).to.equal('progressbar');
      expect(bar.getAttribute('aria-valuemin')).to.equal('0');
      expect(bar.getAttribute('aria-valuemax')).to.equal('100');
      expect(bar.getAttribute('aria-valuenow')).to.equal('0');
      expect(text(rows[0]!.querySelector('[part~="status"]'))).to.equal('Waiting');
      expect(rows[0]!.querySelector('[part~="cancel-button"]')!.getAttribute('aria-label')).to.equal(
        'Cancel a.bin',
      );
      expect(text(part(el, 'upload-button'))).to.equal('Upload');
      expect(text(part(el, 'summary'))).to.equal('0 of 2 files uploaded · 0%');
      await expect(el).to.be.accessible();
    });

    it('starts nothing until the Upload button is pressed, then uploads every file', async () => {
      const server = serve();
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url=${server.url} multiple chunk-size="1000"></ws-file-upload>`,
      );
      el.addFiles([makeFile(2500, 'a.bin', 1), makeFile(10, 'b.bin', 2)]);
      await el.updateComplete;
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The connection opens ahead (preconnect), and nothing is sent on it until the button.
      expect(server.connections.length).to.be.at.most(1);
      expect(server.connections.filter((connection) => connection.stor !== undefined)).to.have.length(0);
      part(el, 'upload-button')!.click();
      await untilStatuses(el, ['complete', 'complete']);
      expect(server.stored('a.bin')).to.deep.equal(makeBytes(2500, 1));
      expect(server.stored('b.bin')).to.deep.equal(makeBytes(10, 2));
      expect(part(el, 'upload-button')).to.equal(null);
    });
  });

  describe('while sending', () => {
    it('shows a determinate bar, speed and time left, and stays accessible', async () => {
      const server = serve({ hold: true });
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url=${server.url} auto chunk-size="1000"></ws-file-upload>`,
      );
      el.addFiles([makeFile(4000, 'big.bin')]);
      await untilStatuses(el, ['connecting']);
      const bar = part(el, 'progress')!;
      expect(bar.hasAttribute('aria-valuenow')).to.equal(false, 'indeterminate while connecting');
      await expect(el).to.be.accessible();
      await waitUntil(() => server.held === 1, 'the first chunk');
      server.release();
      await waitUntil(() => server.held === 1 && el.items[0]!.loaded === 1000, 'the second chunk');
      await untilStatuses(el, ['sending']);
      await waitUntil(() => part(el, 'progress')!.getAttribute('aria-valuenow') === '25', 'the bar at 25');
      expect(part(el, 'progress-indicator')!.style.transform).to.equal('scaleX(0.25)');
      expect(text(part(el, 'status'))).to.equal('Uploading');
      expect(text(part(el, 'details'))).to.match(/^[\d.,]+ (B|kB|MB)\/s · \d+:\d\d left$/);
      await expect(el).to.be.accessible();
      server.release(true);
      await untilStatuses(el, ['complete']);
    });
  });

  describe('when done', () => {
    it('fires progress and success (bubbling, composed) with the figures, then complete', async () => {
      const server = serve();
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url=${server.url} auto chunk-size="1000"></ws-file-upload>`,
      );
      const seen = listen(document, ['progress', 'success', 'complete']);
      const file = makeFile(2500, 'done.bin');
      const completed = oneEvent(el, 'complete');
      el.addFiles([file]);
      const complete = await completed;
      expect(seen.map((event) => event.type)).to.deep.equal([
        'progress',
        'progress',
        'progress',
        'success',
        'complete',
      ]);
      for (const event of seen) expect(event.composed, event.type).to.equal(true);
      const success = seen[3]!.detail as WsFileUploadEventMap['success']['detail'];
      expect(success.file).to.equal(file);
      expect(success).to.include({ loaded: 2500, total: 2500, percentage: 100, remainingTime: 0 });
      expect(success.speed).to.be.a('number').and.be.greaterThan(0);
      expect(success.elapsedTime).to.be.a('number').and.be.greaterThan(0);
      expect((seen[0]!.detail as WsFileUploadEventMap['progress']['detail']).loaded).to.equal(1000);
      expect(complete.detail).to.include({ succeeded: 1, failed: 0 });

      await untilStatuses(el, ['complete']);
      expect(text(part(el, 'status'))).to.equal('Uploaded');
      expect(part(el, 'progress')!.getAttribute('aria-valuenow')).to.equal('100');
      expect(part(el, 'remove-button')).not.to.equal(null);
      expect(part(el, 'cancel-button')).to.equal(null);
      await expect(el).to.be.accessible();
    });

    it('announces milestones in a polite live region, not every chunk', async () => {
      const server = serve();
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url=${server.url} auto chunk-size="100"></ws-file-upload>`,
      );
      const region = el.shadowRoot!.querySelector('[aria-live="polite"]')!;
      const heard: string[] = [];
      new MutationObserver(() => heard.push(text(region))).observe(region, {
        childList: true,
        characterData: true,
        subtree: true,
      });
      el.addFiles([makeFile(2000, 'm.bin')]);
      await untilStatuses(el, ['complete']);
      await waitUntil(() => heard.some((line) => line.includes('The upload finished')), 'the final one');
      const all = heard.join(' | ');
      // Plural forms by Intl.PluralRules: one file, not "file(s)".
      expect(all).to.include('1 file added.');
      expect(all).to.include('m.bin uploaded.');
      expect(heard.length).to.be.lessThan(8, `20 chunks must not make 20 announcements: ${all}`);
    });

    it('removes a file with its remove button', async () => {
      const server = serve();
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url=${server.url} auto></ws-file-upload>`);
      el.addFiles([makeFile(10, 'r.bin')]);
      await untilStatuses(el, ['complete']);
      part(el, 'remove-button')!.click();
      await waitUntil(() => part(el, 'file-list') === null, 'the list to empty');
      expect(el.items).to.have.length(0);
    });
  });

  describe('when a file goes on unverified', () => {
    it('fires warning on the host only (a v1 server checks no blocks), and the file still uploads', async () => {
      const server = serve();
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url=${server.url} auto></ws-file-upload>`);
      const onDocument = listen(document, ['warning']);
      const file = makeFile(1200, 'w.bin');
      const warned = oneEvent(el, 'warning');
      el.addFiles([file]);
      const event = (await warned) as WsFileUploadEventMap['warning'];
      expect(event.bubbles).to.equal(false);
      expect(onDocument).to.have.length(0);
      expect(event.detail.file).to.equal(file);
      expect(event.detail.code).to.equal('integrityNotGranted');
      await untilStatuses(el, ['complete']);
      expect(server.stored('w.bin')).to.deep.equal(makeBytes(1200));
    });
  });

  describe('when a file fails', () => {
    it('fires error on the host only, shows the i18n message and offers retry', async () => {
      const server = serve({
        refuseStor: (_name, attempt) =>
          attempt === 1 ? { type: 'STOR', code: 403, message: 'No thanks' } : undefined,
      });
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url=${server.url} auto></ws-file-upload>`);
      const onDocument = listen(document, ['error']);
      const file = makeFile(1200, 'f.bin');
      const failed = oneEvent(el, 'error');
      el.addFiles([file]);
      const event = (await failed) as WsFileUploadEventMap['error'];
      expect(event.bubbles).to.equal(false);
      expect(onDocument).to.have.length(0);
      expect(event.detail.file).to.equal(file);
      expect(event.detail.error.code).to.equal('serverRefused');
      expect(event.detail.error.status).to.equal(403);
      expect(event.detail.message).to.equal('The server refused the file.');

      await untilStatuses(el, ['failed']);
      expect(text(part(el, 'status'))).to.equal('The server refused the file.');
      await expect(el).to.be.accessible();
      part(el, 'retry-button')!.click();
      await untilStatuses(el, ['complete']);
      expect(server.stored('f.bin')).to.deep.equal(makeBytes(1200));
    });

    it('fails with connectionFailed when the server cannot be reached', async () => {
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url="ws://127.0.0.1:9/nothing" auto></ws-file-upload>`,
      );
      const failed = oneEvent(el, 'error');
      el.addFiles([makeFile(5, 'x.bin')]);
      const event = (await failed) as WsFileUploadEventMap['error'];
      expect(event.detail.error.code).to.equal('connectionFailed');
      await untilStatuses(el, ['failed']);
      expect(text(part(el, 'status'))).to.equal('Cannot reach the upload server.');
    });
  });

  describe('cancel', () => {
    it('cancels a running file from its button (keyboard) and fires cancel on the host only', async () => {
      const server = serve({ hold: true });
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url=${server.url} auto chunk-size="1000"></ws-file-upload>`,
      );
      const onDocument = listen(document, ['cancel']);
      const file = makeFile(5000, 'c.bin');
      el.addFiles([file]);
      await waitUntil(() => server.held === 1, 'the first chunk');
      await untilStatuses(el, ['connecting']);
      const cancelled = oneEvent(el, 'cancel');
      part(el, 'cancel-button')!.focus();
      await sendKeys({ press: 'Enter' });
      const event = (await cancelled) as WsFileUploadEventMap['cancel'];
      expect(event.detail.file).to.equal(file);
      expect(event.bubbles).to.equal(false);
      expect(onDocument).to.have.length(0);
      await untilStatuses(el, ['cancelled']);
      expect(text(part(el, 'status'))).to.equal('Cancelled');
      await waitUntil(() => server.open === 0, 'the socket to close');
      expect(part(el, 'retry-button')).not.to.equal(null);
      await expect(el).to.be.accessible();
    });

    it('cancel() and clear() act on every file', async () => {
      const server = serve({ hold: true });
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url=${server.url} multiple auto concurrency="1"></ws-file-upload>`,
      );
      el.addFiles([makeFile(3000, 'a.bin'), makeFile(3000, 'b.bin')]);
      await waitUntil(() => server.held === 1, 'a in flight');
      el.cancel();
      expect(el.items.map((item) => item.status)).to.deep.equal(['cancelled', 'cancelled']);
      el.clear();
      expect(el.items).to.have.length(0);
      await waitUntil(() => part(el, 'file-list') === null, 'the list to empty');
    });
  });

  describe('restrictions', () => {
    it('refuses files by type, size and count, fires file-rejected with the reason and shows why', async () => {
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload
          url="ws://x"
          multiple
          accept=".bin,image/*"
          max-file-size="100"
          max-files="2"
        ></ws-file-upload>`,
      );
      const seen = listen(document, ['file-rejected']);
      el.addFiles([
        makeFile(10, 'a.bin'),
        new File(['x'], 'b.txt', { type: 'text/plain' }),
        new File(['x'], 'p.png', { type: 'image/png' }),
        makeFile(101, 'big.bin'),
        makeFile(10, 'extra.bin'),
      ]);
      expect(seen.map((event) => `${event.detail.file.name}:${event.detail.reason}`)).to.deep.equal([
        'b.txt:fileTypeNotAccepted',
        'big.bin:fileTooBig',
        'extra.bin:tooManyFiles',
      ]);
      expect(seen.every((event) => event.bubbles && event.composed)).to.equal(true);
      await el.updateComplete;
      expect(parts(el, 'rejection').map(text)).to.deep.equal([
        'b.txt: This file type is not accepted.',
        'big.bin: This file is too big.',
        'extra.bin: Too many files.',
      ]);
      expect(el.items.map((item) => item.file.name)).to.deep.equal(['a.bin', 'p.png']);
      await expect(el).to.be.accessible();
    });

    it('holds one file without multiple', async () => {
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x"></ws-file-upload>`);
      el.addFiles([makeFile(1, 'one.bin')]);
      const rejected = oneEvent(el, 'file-rejected');
      el.addFiles([makeFile(1, 'two.bin')]);
      expect((await rejected).detail.reason).to.equal('tooManyFiles');
      expect(el.items).to.have.length(1);
    });

    it('falls back to the defaults for number attributes out of range', async () => {
      const server = serve();
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url=${server.url} auto chunk-size="-5" concurrency="-1"></ws-file-upload>`,
      );
      el.addFiles([makeFile(3000, 'd.bin')]);
      await untilStatuses(el, ['complete']);
      expect(server.connections[0]!.bytes).to.have.length(3000);
    });

    it('passes accept and multiple on to the picker', async () => {
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url="ws://x" accept="image/*" multiple></ws-file-upload>`,
      );
      const input = el.shadowRoot!.querySelector('input[type=file]') as HTMLInputElement;
      expect(input.accept).to.equal('image/*');
      expect(input.multiple).to.equal(true);
    });
  });

  describe('keyboard and picking', () => {
    it('reaches the picker button with Tab and opens the file dialog with Enter and Space', async () => {
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x"></ws-file-upload>`);
      const input = el.shadowRoot!.querySelector('input[type=file]') as HTMLInputElement;
      let opened = 0;
      input.addEventListener('click', (event) => {
        opened += 1;
        event.preventDefault(); // no real dialog in a test
      });
      await sendKeys({ press: 'Tab' });
      expect(el.shadowRoot!.activeElement).to.equal(part(el, 'button'));
      await sendKeys({ press: 'Enter' });
      // ' ' rather than 'Space': puppeteer's WebDriver BiDi keyboard (Firefox) knows no 'Space' key name.
      await sendKeys({ press: ' ' });
      expect(opened).to.equal(2);
    });

    it('adds the files the picker returns', async () => {
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" multiple></ws-file-upload>`);
      const input = el.shadowRoot!.querySelector('input[type=file]') as HTMLInputElement;
      const transfer = new DataTransfer();
      transfer.items.add(makeFile(3, 'picked.bin'));
      input.files = transfer.files;
      input.dispatchEvent(new Event('change'));
      expect(el.items.map((item) => item.file.name)).to.deep.equal(['picked.bin']);
    });

    it('does nothing when disabled', async () => {
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" disabled></ws-file-upload>`);
      expect((part(el, 'button') as HTMLButtonElement).disabled).to.equal(true);
      expect(el.hasAttribute('disabled')).to.equal(true);
      await expect(el).to.be.accessible();
    });
  });

  describe('drag and drop', () => {
    function dragEvent(type: string, files: File[]): DragEvent {
      const dataTransfer = new DataTransfer();
      for (const file of files) dataTransfer.items.add(file);
      return new DragEvent(type, { dataTransfer, bubbles: true, cancelable: true, composed: true });
    }

    it('shows a drag-over state and adds dropped files', async () => {
      const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" multiple></ws-file-upload>`);
      const zone = part(el, 'drop-zone')!;
      const over = dragEvent('dragover', [makeFile(1, 'd1.bin')]);
      zone.dispatchEvent(over);
      expect(over.defaultPrevented).to.equal(true, 'dragover is cancelled so the zone takes drops');
      expect(el.hasAttribute('dragover')).to.equal(true);
      zone.dispatchEvent(new DragEvent('dragleave', { bubbles: true, relatedTarget: document.body }));
      expect(el.hasAttribute('dragover')).to.equal(false);
      zone.dispatchEvent(dragEvent('dragover', [makeFile(1, 'd1.bin')]));
      const drop = dragEvent('drop', [makeFile(1, 'd1.bin'), makeFile(2, 'd2.bin')]);
      zone.dispatchEvent(drop);
      expect(drop.defaultPrevented).to.equal(true);
      expect(el.hasAttribute('dragover')).to.equal(false);
      expect(el.items.map((item) => item.file.name)).to.deep.equal(['d1.bin', 'd2.bin']);
    });

    it('ignores drops when disabled', async () => {
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url="ws://x" multiple disabled></ws-file-upload>`,
      );
      part(el, 'drop-zone')!.dispatchEvent(dragEvent('drop', [makeFile(1)]));
      expect(el.items).to.have.length(0);
    });
  });

  describe('i18n', () => {
    it('deep-merges a partial override and keeps the other strings', async () => {
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload
          url="ws://x"
          .i18n=${{ addFiles: { one: 'Datei wählen…' }, status: { queued: 'Wartet' }, cancel: '{name} abbrechen' }}
        ></ws-file-upload>`,
      );
      el.addFiles([makeFile(1, 'x.bin')]);
      await untilStatuses(el, ['queued']);
      expect(text(part(el, 'button'))).to.equal('Datei wählen…');
      expect(text(part(el, 'drop-label'))).to.equal('Drop a file here');
      expect(text(part(el, 'status'))).to.equal('Wartet');
      expect(part(el, 'cancel-button')!.getAttribute('aria-label')).to.equal('x.bin abbrechen');
      expect(text(part(el, 'upload-button'))).to.equal('Upload');
    });
  });

  describe('styling', () => {
    it('exposes every visible piece as a part and defaults its custom properties on :host', async () => {
      const server = serve({
        refuseStor: (name) => (name === 'bad.bin' ? { type: 'STOR', code: 500, message: 'x' } : undefined),
        hold: true,
      });
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload
          url=${server.url}
          multiple
          accept=".bin"
          concurrency="3"
          chunk-size="1000"
        ></ws-file-upload>`,
      );
      el.addFiles([makeFile(5000, 'slow.bin'), makeFile(10, 'bad.bin'), new File(['x'], 'no.txt')]);
      el.upload();
      await waitUntil(() => server.held === 1, 'slow.bin in flight');
      server.release();
      await untilStatuses(el, ['sending', 'failed']);
      for (const name of [
        'base',
        'drop-zone',
        'drop-label',
        'button',
        'rejections',
        'rejection',
        'summary',
        'file-list',
        'file',
        'file-name',
        'file-size',
        'progress',
        'progress-indicator',
        'status-line',
        'status',
        'details',
        'actions',
        'cancel-button',
        'retry-button',
        'remove-button',
      ]) {
        expect(part(el, name), name).not.to.equal(null);
      }
      const style = getComputedStyle(el);
      expect(style.getPropertyValue('--ws-file-upload-radius').trim()).to.equal('6px');
      expect(style.getPropertyValue('--ws-file-upload-accent-color').trim()).to.not.equal('');
      el.style.setProperty('--ws-file-upload-accent-color', 'rgb(1, 2, 3)');
      expect(getComputedStyle(part(el, 'button')!).backgroundColor).to.equal('rgb(1, 2, 3)');
      server.release(true);
      await untilStatuses(el, ['complete', 'failed']);
    });
  });

  describe('in a form', () => {
    it('submits the uploaded names, is invalid while files run or failed, and honours required', async () => {
      const server = serve({
        hold: true,
        refuseStor: (name) => (name === 'bad.bin' ? { type: 'STOR', code: 500, message: 'x' } : undefined),
      });
      const form = await fixture<HTMLFormElement>(
        html`<form>
          <ws-file-upload name="files" url=${server.url} multiple required></ws-file-upload>
        </form>`,
      );
      const el = form.querySelector('ws-file-upload')!;
      await el.updateComplete;
      expect(el.form).to.equal(form);
      expect(el.checkValidity()).to.equal(false);
      expect(el.validity.valueMissing).to.equal(true);
      expect(el.validationMessage).to.equal('Please add a file.');

      el.addFiles([makeFile(1500, 'a.pdf')]);
      expect(el.validity.customError).to.equal(true, 'a queued file is not uploaded yet');
      expect(el.validationMessage).to.equal('Please wait until the files are uploaded.');
      el.upload();
      await waitUntil(() => server.held === 1, 'a.pdf in flight');
      expect(form.checkValidity()).to.equal(false);
      server.release(true);
      await waitUntil(() => el.items[0]!.status === 'complete', 'a.pdf to complete');
      expect(el.checkValidity()).to.equal(true);
      expect(new FormData(form).getAll('files')).to.deep.equal(['a.pdf']);
      expect(el.value).to.deep.equal(['a.pdf']);

      el.addFiles([makeFile(5, 'bad.bin')]);
      el.upload();
      await waitUntil(() => el.items[1]!.status === 'failed', 'bad.bin to fail');
      expect(el.checkValidity()).to.equal(false);
      expect(el.validationMessage).to.equal('Some files failed to upload. Retry or remove them.');
      el.removeFile(el.items[1]!.file);
      expect(el.checkValidity()).to.equal(true);

      form.reset();
      expect(el.items).to.have.length(0);
      expect(new FormData(form).getAll('files')).to.deep.equal([]);
      expect(el.validity.valueMissing).to.equal(true);
    });
  });

  describe('rendering many files', () => {
    it('renders at most once per animation frame while hundreds of progress events arrive', async () => {
      let renders = 0;
      class CountingUpload extends WsFileUpload {
        protected override updated(): void {
          super.updated();
          renders += 1;
        }
      }
      customElements.define('counting-ws-file-upload', CountingUpload);
      const server = serve();
      const el = document.createElement('counting-ws-file-upload') as CountingUpload;
      el.url = server.url;
      el.multiple = true;
      el.auto = true;
      el.concurrency = 50;
      el.chunkSize = 100;
      document.body.append(el);
      try {
        await el.updateComplete;
        let frames = 0;
        let counting = true;
        const tick = (): void => {
          frames += 1;
          if (counting) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
        let progressEvents = 0;
        el.addEventListener('progress', () => (progressEvents += 1));
        const started = renders;
        const done = oneEvent(el, 'complete');
        el.addFiles(Array.from({ length: 200 }, (_, i) => makeFile(300, `m${i}.bin`, i)));
        await done;
        await new Promise((resolve) => requestAnimationFrame(resolve));
        counting = false;
        const during = renders - started;
        expect(progressEvents).to.equal(600);
        expect(during).to.be.at.most(frames + 2, `${during} renders in ${frames} frames`);
        expect(during).to.be.lessThan(progressEvents / 10);
        expect(el.items.every((item) => item.status === 'complete')).to.equal(true);
        await waitUntil(
          () => parts(el, 'file').every((row) => row.getAttribute('part') === 'file file-complete'),
          'the rendered rows to show complete',
        );
      } finally {
        el.remove();
      }
    });
  });

  describe('with hundreds of files (a windowed list)', () => {
    /** Waits two frames: one for the scroll (or resize) to be seen, one for the render it asked for. */
    const frames = async (): Promise<void> => {
      for (let i = 0; i < 2; i++) await new Promise((resolve) => requestAnimationFrame(resolve));
    };

    async function manyFiles(count: number, style = ''): Promise<WsFileUpload> {
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url="ws://x" multiple style=${style}></ws-file-upload>`,
      );
      el.addFiles(Array.from({ length: count }, (_, i) => makeFile(10, `f${i}.bin`)));
      await waitUntil(() => parts(el, 'file').length > 0, 'the first rows');
      await frames();
      return el;
    }

    it('is accessible, and keeps only a bounded number of rows in the DOM, each complete', async () => {
      const el = await manyFiles(300);
      await expect(el).to.be.accessible();
      const rows = parts(el, 'file');
      expect(rows.length).to.be.within(2, 30, `${rows.length} rows rendered for 300 files`);
      expect(part(el, 'file-list')!.getAttribute('role')).to.equal('list');
      rows.forEach((row, index) => {
        expect(row.getAttribute('aria-setsize')).to.equal('300');
        expect(row.getAttribute('aria-posinset')).to.equal(String(index + 1));
        expect(text(row.querySelector('[part~="file-name"]'))).to.equal(`f${index}.bin`);
        const bar = row.querySelector('[part~="progress"]')!;
        expect(bar.getAttribute('role')).to.equal('progressbar');
        expect(bar.getAttribute('aria-valuenow')).to.equal('0');
        expect(row.querySelector('[part~="cancel-button"]')!.getAttribute('aria-label')).to.equal(
          `Cancel f${index}.bin`,
        );
      });
      const viewport = part(el, 'file-list-viewport')!;
      expect(viewport.scrollHeight).to.be.greaterThan(
        viewport.clientHeight * 10,
        'the scrollbar stands for all 300 rows',
      );
    });

    it('shows later rows when the list is scrolled, still bounded and accessible', async () => {
      const el = await manyFiles(300);
      const viewport = part(el, 'file-list-viewport')!;
      viewport.scrollTop = viewport.scrollHeight / 2;
      await waitUntil(
        () => Number(parts(el, 'file')[0]!.getAttribute('aria-posinset')) > 100,
        'rows from the middle of the list',
      );
      viewport.scrollTop = viewport.scrollHeight;
      await waitUntil(
        () => parts(el, 'file').at(-1)!.getAttribute('aria-posinset') === '300',
        'the last row',
      );
      await frames();
      const rows = parts(el, 'file');
      expect(rows.length).to.be.at.most(30);
      expect(text(rows.at(-1)!.querySelector('[part~="file-name"]'))).to.equal('f299.bin');
      const last = rows.at(-1)!.getBoundingClientRect();
      const box = viewport.getBoundingClientRect();
      expect(last.bottom).to.be.within(box.top, box.bottom + 1, 'the last row is in view');
      await expect(el).to.be.accessible();
    });

    it("reaches every row's button with Tab, in order, rendering rows as focus moves", async () => {
      // A low list so that most of the 40 rows are outside the rendered window at any time.
      const el = await manyFiles(40, '--ws-file-upload-list-max-height: 8rem');
      expect(parts(el, 'file').length).to.be.lessThan(20);
      // Something focusable after the element, so the last Tab stays in the page: WebKitWebDriver's key action
      // never returns when Tab moves focus out of the web view (into MiniBrowser's toolbar).
      const next = document.createElement('button');
      next.textContent = 'after';
      el.after(next);
      parts(el, 'cancel-button')[0]!.focus();
      const reached: string[] = [];
      for (let i = 0; i < 40; i++) {
        reached.push(el.shadowRoot!.activeElement?.getAttribute('aria-label') ?? 'nothing');
        await sendKeys({ press: 'Tab' });
        await frames();
      }
      expect(reached).to.deep.equal(Array.from({ length: 40 }, (_, i) => `Cancel f${i}.bin`));
      expect(el.shadowRoot!.activeElement).to.equal(null, 'the last Tab leaves the element');
      expect(document.activeElement).to.equal(next, 'and reaches what follows it');
    });

    it('keeps the summary and the counts right for the rows not rendered', async () => {
      const el = await manyFiles(300);
      el.cancel();
      await waitUntil(() => text(part(el, 'summary')).length > 0, 'the summary');
      expect(el.items.filter((item) => item.status === 'cancelled')).to.have.length(300);
      await waitUntil(
        () => parts(el, 'file').every((row) => row.getAttribute('part') === 'file file-cancelled'),
        'rendered rows to show cancelled',
      );
      el.clear();
      await el.updateComplete;
      expect(part(el, 'file-list')).to.equal(null);
      expect(el.validity.valid).to.equal(true);
    });
  });
});

// Folders, paste, previews and prepare() in <ws-file-upload> (issue 14 items 2–5), in a real browser. Folder
// entries come from the browser's own sandboxed file system (webkitRequestFileSystem, Chromium): real
// FileSystemDirectoryEntry readers that hand out their entries in batches, as a dropped folder's do.
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { WsFileUpload } from '../../src/element/ws-file-upload.ts';
import { takeDrop } from '../../src/element/folder-entries.ts';
import { readEntries } from '../../src/element/folder-walk.ts';
import { pastedFiles } from '../../src/element/paste-controller.ts';
import { makeFile } from '../helpers/make-file.ts';
import { QueueServer } from '../helpers/queue-server.ts';

const servers: QueueServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop();
});

function part(el: HTMLElement, name: string): HTMLElement | null {
  return el.shadowRoot!.querySelector(`[part~="${name}"]`);
}

function parts(el: HTMLElement, name: string): HTMLElement[] {
  return [...el.shadowRoot!.querySelectorAll<HTMLElement>(`[part~="${name}"]`)];
}

/** A small real PNG, drawn on a canvas. */
async function pngFile(name = 'photo.png', size = 64): Promise<File> {
  const canvas = new OffscreenCanvas(size, size);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#3a7';
  context.fillRect(0, 0, size, size);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new File([blob], name, { type: 'image/png' });
}

function paste(target: EventTarget, data: DataTransfer): ClipboardEvent {
  const init = { clipboardData: data, bubbles: true, composed: true, cancelable: true };
  const event = new ClipboardEvent('paste', init);
  // Firefox's constructor copies only the strings of `clipboardData`, not its files (a real paste has them):
  // the event then carries the DataTransfer itself.
  if (event.clipboardData?.files.length !== data.files.length) {
    Object.defineProperty(event, 'clipboardData', { value: data });
  }
  target.dispatchEvent(event);
  return event;
}

type FsWindow = Window & {
  webkitRequestFileSystem?: (
    type: number,
    size: number,
    ok: (fs: { root: FileSystemDirectoryEntry }) => void,
    fail: (error: unknown) => void,
  ) => void;
};

/** The callback API of the sandboxed file system, as far as these tests use it. */
interface SandboxDir {
  getDirectory(
    path: string,
    options: object,
    ok: (dir: SandboxDir) => void,
    fail: (e: unknown) => void,
  ): void;
  getFile(path: string, options: object, ok: (file: SandboxFile) => void, fail: (e: unknown) => void): void;
}
interface SandboxFile {
  createWriter(ok: (writer: SandboxWriter) => void, fail: (e: unknown) => void): void;
}
interface SandboxWriter {
  write(blob: Blob): void;
  onwriteend: () => void;
  onerror: (e: unknown) => void;
}

/** A folder tree in the page's temporary file system: `{ 'a/b/c.txt': 'text' }`; null outside Chromium. */
async function sandboxTree(files: Record<string, string>): Promise<FileSystemDirectoryEntry | null> {
  const request = (window as FsWindow).webkitRequestFileSystem;
  if (!request) return null;
  const fs = await new Promise<{ root: FileSystemDirectoryEntry }>((ok, fail) =>
    request(0, 1 << 24, ok, fail),
  );
  const top = `t${Math.random().toString(36).slice(2)}`;
  const root = fs.root as unknown as SandboxDir;
  const dirOf = (p: string) =>
    new Promise<SandboxDir>((ok, fail) => root.getDirectory(p, { create: true }, ok, fail));
  await dirOf(top);
  for (const [relative, content] of Object.entries(files)) {
    const segments = relative.split('/');
    for (let i = 1; i < segments.length; i++) await dirOf(`${top}/${segments.slice(0, i).join('/')}`);
    const file = await new Promise<SandboxFile>((ok, fail) =>
      root.getFile(`${top}/${relative}`, { create: true }, ok, fail),
    );
    const writer = await new Promise<SandboxWriter>((ok, fail) => file.createWriter(ok, fail));
    await new Promise<void>((ok, fail) => {
      writer.onwriteend = () => ok();
      writer.onerror = fail;
      writer.write(new Blob([content]));
    });
  }
  return (await dirOf(top)) as unknown as FileSystemDirectoryEntry;
}

// Engines without the sandboxed file system (Firefox, WebKit) skip these; the e2e tests drop real folders.
const withSandbox = (window as FsWindow).webkitRequestFileSystem
  ? it
  : (it as unknown as { skip: typeof it }).skip;

describe('folders', () => {
  withSandbox('reads a folder tree recursively, batch after batch, each file with its folder', async () => {
    // 250 files in one folder: more than one readEntries batch (Chromium hands out 100 at a time).
    const files: Record<string, string> = { 'top.txt': 'top', 'mid/a.txt': 'a', 'mid/low/b.txt': 'bb' };
    for (let i = 0; i < 250; i++) files[`many/f${String(i).padStart(3, '0')}.txt`] = String(i);
    const dir = (await sandboxTree(files))!;
    const read = await readEntries([dir], { maxFiles: 10_000, maxDepth: 16 });
    expect(read.beyond).to.equal(null);
    const seen = read.files.map(({ file, path }) => `${path}/${file.name}`);
    const top = dir.name;
    expect(seen).to.include.members([`${top}/top.txt`, `${top}/mid/a.txt`, `${top}/mid/low/b.txt`]);
    expect(seen.filter((p) => p.startsWith(`${top}/many/`))).to.have.length(250);
    const b = read.files.find(({ file }) => file.name === 'b.txt')!;
    expect(await b.file.text()).to.equal('bb');
  });

  withSandbox('stops past the bound and says so', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`d/f${i}.txt`] = 'x';
    const dir = (await sandboxTree(files))!;
    const read = await readEntries([dir], { maxFiles: 20, maxDepth: 16 });
    expect(read.beyond).to.equal('folderTooLarge');
    expect(read.files.length).to.be.at.most(20);
  });

  withSandbox('stops at a folder nested deeper than the bound and says so', async () => {
    // Files under 1, 2 and 3 folders (the dropped one included): a bound of 3 takes them all, 2 does not.
    const dir = (await sandboxTree({ 'a.txt': 'a', 'one/b.txt': 'b', 'one/two/c.txt': 'c' }))!;
    const deep = await readEntries([dir], { maxFiles: 100, maxDepth: 3 });
    expect(deep.beyond).to.equal(null);
    expect(deep.files).to.have.length(3);
    const shallow = await readEntries([dir], { maxFiles: 100, maxDepth: 2 });
    expect(shallow.beyond).to.equal('folderTooDeep');
  });

  it('takes plain files of a drop at once when it holds no folder', () => {
    const data = new DataTransfer();
    data.items.add(makeFile(5, 'a.bin'));
    const taken = takeDrop(data);
    expect('files' in taken && taken.files.map((f) => f.name)).to.deep.equal(['a.bin']);
  });

  it('offers a folder picker with `directory`, and is accessible', async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" directory></ws-file-upload>`);
    const input = el.shadowRoot!.querySelector('input[type=file]') as HTMLInputElement;
    expect(input.hasAttribute('webkitdirectory')).to.equal(true);
    expect(input.multiple).to.equal(true, 'a folder holds several files');
    await expect(el).to.be.accessible();
  });

  it('shows each file’s folder before its name, and is accessible', async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" multiple></ws-file-upload>`);
    const items = el.addFiles([{ file: makeFile(10, 'a.txt'), path: 'album/2024' }, makeFile(10, 'b.txt')]);
    expect(items.map((item) => item.path)).to.deep.equal(['album/2024', '']);
    await waitUntil(() => parts(el, 'file').length === 2);
    const names = parts(el, 'file-name').map((n) => n.textContent!.replace(/\s+/g, ''));
    expect(names).to.deep.equal(['album/2024/a.txt', 'b.txt']);
    expect(parts(el, 'file-path').map((p) => p.textContent)).to.deep.equal(['album/2024/']);
    await expect(el).to.be.accessible();
  });

  /** Drops a folder entry on the element's zone, as a drop whose DataTransfer items give that entry. */
  function dropFolder(el: WsFileUpload, dir: FileSystemDirectoryEntry): void {
    const data = { items: [{ kind: 'file', webkitGetAsEntry: () => dir }], files: [], types: ['Files'] };
    part(el, 'drop-zone')!.dispatchEvent(
      Object.assign(new Event('drop', { cancelable: true }), { dataTransfer: data }),
    );
  }

  withSandbox(
    'refuses a dropped folder past max-folder-files: listed, file-rejected, nothing added',
    async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 8; i++) files[`f${i}.txt`] = 'x';
      const dir = (await sandboxTree(files))!;
      const el = await fixture<WsFileUpload>(
        html`<ws-file-upload url="ws://x" multiple max-folder-files="5"></ws-file-upload>`,
      );
      const rejected = oneEvent(el, 'file-rejected');
      dropFolder(el, dir);
      const { detail, bubbles } = await rejected;
      expect(bubbles).to.equal(true, 'as for a refused file');
      expect(detail).to.include({ file: null, folder: dir.name, reason: 'folderTooLarge', max: 5 });
      expect(detail.message).to.equal('more than 5 files in this folder; none were added.');
      await waitUntil(() => parts(el, 'rejection').length === 1, 'the folder is listed');
      expect(el.items).to.have.length(0);
      expect(part(el, 'rejection')!.textContent).to.equal(`${dir.name}: ${detail.message}`);
      await expect(el).to.be.accessible();
    },
  );

  withSandbox('refuses a dropped folder nested past max-folder-depth the same way', async () => {
    const dir = (await sandboxTree({ 'a.txt': 'a', 'one/two/three/deep.txt': 'd' }))!;
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload url="ws://x" multiple max-folder-depth="3"></ws-file-upload>`,
    );
    const rejected = oneEvent(el, 'file-rejected');
    dropFolder(el, dir);
    const { detail } = await rejected;
    expect(detail).to.include({ file: null, folder: dir.name, reason: 'folderTooDeep', max: 3 });
    expect(detail.message).to.contain('more than 3 deep');
    await waitUntil(() => parts(el, 'rejection').length === 1, 'the folder is listed');
    expect(el.items).to.have.length(0, 'not even the shallow file: nothing half-added');
    await expect(el).to.be.accessible();
  });
});

describe('paste', () => {
  it('adds files pasted into the element, and leaves text pastes alone', async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" multiple></ws-file-upload>`);
    const data = new DataTransfer();
    data.items.add(makeFile(7, 'pasted.bin'));
    const event = paste(part(el, 'button')!, data);
    expect(event.defaultPrevented).to.equal(true);
    expect(el.items.map((item) => item.file.name)).to.deep.equal(['pasted.bin']);
    const text = new DataTransfer();
    text.setData('text/plain', 'hello');
    expect(paste(el, text).defaultPrevented).to.equal(false);
    expect(el.items).to.have.length(1);
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });

  it('takes pastes anywhere in the page only with paste-target="document"', async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" multiple></ws-file-upload>`);
    const outside = document.createElement('div');
    document.body.append(outside);
    try {
      const data = new DataTransfer();
      data.items.add(makeFile(3, 'one.bin'));
      paste(outside, data);
      expect(el.items).to.have.length(0, 'not the element’s by default');
      el.pasteTarget = 'document';
      await el.updateComplete;
      paste(outside, data);
      expect(el.items.map((item) => item.file.name)).to.deep.equal(['one.bin']);
      el.disabled = true;
      await el.updateComplete;
      paste(outside, data);
      expect(el.items).to.have.length(1, 'a disabled element takes nothing');
      el.remove();
      paste(outside, data);
      expect(el.items).to.have.length(1, 'a detached element no longer listens');
    } finally {
      outside.remove();
    }
  });

  it('reads pasted files from the items when the clipboard lists no files', () => {
    const data = new DataTransfer();
    data.items.add(makeFile(2, 'shot.png'));
    expect(pastedFiles(data).map((f) => f.name)).to.deep.equal(['shot.png']);
    expect(pastedFiles(null)).to.deep.equal([]);
  });
});

describe('previews', () => {
  it('shows a thumbnail for an image, none for other files, and revokes it when the row goes', async () => {
    const el = await fixture<WsFileUpload>(html`<ws-file-upload url="ws://x" multiple></ws-file-upload>`);
    const image = await pngFile();
    el.addFiles([image, makeFile(10, 'data.bin')]);
    await waitUntil(() => part(el, 'preview-image') !== null, 'the thumbnail appears', { timeout: 5000 });
    expect(parts(el, 'preview')).to.have.length(2, 'every row keeps the preview cell');
    expect(parts(el, 'preview-image')).to.have.length(1, 'only the image has a thumbnail');
    const img = part(el, 'preview-image') as HTMLImageElement;
    expect(img.src).to.match(/^blob:/);
    await waitUntil(() => img.complete && img.naturalWidth > 0, 'the thumbnail decodes');
    expect(img.naturalWidth).to.be.at.most(40 * Math.min(devicePixelRatio || 1, 3));
    await expect(el).to.be.accessible();
    const url = img.src;
    el.removeFile(image);
    // A revoked object URL no longer loads.
    const loads = await fetch(url).then(
      () => true,
      () => false,
    );
    expect(loads).to.equal(false);
  });

  it('makes no preview with previews="off", nor for an image over the size bound', async () => {
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload url="ws://x" multiple previews="off"></ws-file-upload>`,
    );
    el.addFiles([await pngFile()]);
    await el.updateComplete;
    expect(part(el, 'preview')).to.equal(null);
    el.previews = true;
    const huge = new File([new Uint8Array(20_000_001)], 'huge.png', { type: 'image/png' });
    el.addFiles([huge]);
    await waitUntil(() => parts(el, 'preview').length === 2);
    await waitUntil(() => parts(el, 'preview-image').length === 1, 'the small one only', { timeout: 5000 });
  });
});

describe('prepare()', () => {
  it('shows the hook’s refusal in the row, and sends the others with their parameters', async () => {
    const server = new QueueServer({ mockGlobal: true });
    servers.push(server);
    const el = await fixture<WsFileUpload>(
      html`<ws-file-upload url=${server.url} multiple auto></ws-file-upload>`,
    );
    el.prepare = async (file) =>
      file.name.endsWith('.exe') ? { reject: 'No programs, please.' } : { parameters: { n: file.name } };
    el.addFiles([makeFile(10, 'bad.exe'), makeFile(10, 'good.bin')]);
    await waitUntil(() => el.items.every((item) => ['failed', 'complete'].includes(item.status)));
    expect(el.items.map((item) => item.status)).to.deep.equal(['failed', 'complete']);
    await waitUntil(() => part(el, 'file-failed') !== null);
    expect(part(el, 'file-failed')!.querySelector('[part~="status"]')!.textContent).to.equal(
      'No programs, please.',
    );
    expect(server.connections.map((c) => c.filename)).to.deep.equal(['good.bin']);
    await expect(el).to.be.accessible();
  });
});

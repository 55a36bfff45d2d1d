// The queue's items, step by step: the status table (who may go where, what holds a slot), a new entry,
// and the `accept` and folder rules applied to files.
import { expect } from '@open-wc/testing';
import {
  acceptsFile,
  folderOf,
  newEntry,
  RUNNING_STATUSES,
  STATUS_TRANSITIONS,
  type UploadStatus,
} from '../../src/core/queue-items.ts';
import { makeFile } from '../helpers/make-file.ts';

const STATUSES = Object.keys(STATUS_TRANSITIONS) as UploadStatus[];

describe('queue items', () => {
  it('the status table: complete is final, every target is a status, and only stopped items start over', () => {
    expect(STATUS_TRANSITIONS.complete).to.deep.equal([]);
    for (const from of STATUSES)
      for (const to of STATUS_TRANSITIONS[from]) expect(STATUSES, `${from} → ${to}`).to.include(to);
    // Back to queued only from a stop the user can undo: retry a failed or cancelled item, resume a paused one.
    const requeued = STATUSES.filter((from) => STATUS_TRANSITIONS[from].includes('queued')).sort();
    expect(requeued).to.deep.equal(['cancelled', 'failed', 'paused']);
    // A running item can always be paused or cancelled, and only a running one completes.
    for (const running of RUNNING_STATUSES)
      expect(STATUS_TRANSITIONS[running]).to.include.members(['paused', 'cancelled']);
    const completing = STATUSES.filter((from) => STATUS_TRANSITIONS[from].includes('complete')).sort();
    expect(completing).to.deep.equal([...RUNNING_STATUSES].sort());
  });

  it('a new entry is queued with nothing loaded, and not pausable without a running transfer', () => {
    const entry = newEntry(3, makeFile(42, 'a.bin'), 'photos');
    expect(entry).to.include({
      id: 3,
      path: 'photos',
      status: 'queued',
      loaded: 0,
      total: 42,
      transfer: null,
    });
    expect(entry.remainingTime).to.equal(Infinity);
    expect(entry.pausable).to.equal(false);
    entry.status = 'sending';
    expect(entry.pausable, 'sending, but no transfer to pause').to.equal(false);
  });

  it("accept: extensions by the name's end, type/* by the major type, other tokens by the exact type", () => {
    const photo = new File(['x'], 'Holiday.JPG', { type: 'image/jpeg' });
    const text = new File(['x'], 'notes.txt', { type: 'text/plain' });
    expect(acceptsFile('', photo)).to.equal(true);
    expect(acceptsFile(' , ', photo)).to.equal(true);
    expect(acceptsFile('.jpg', photo)).to.equal(true);
    expect(acceptsFile('image/*', photo)).to.equal(true);
    expect(acceptsFile('image/*', text)).to.equal(false);
    expect(acceptsFile('text/plain, .pdf', text)).to.equal(true);
    expect(acceptsFile('text/html', text)).to.equal(false);
    // `image/*` is the major part with its slash: `imagex/…` is another type.
    expect(acceptsFile('image/*', new File(['x'], 'a', { type: 'imagex/foo' }))).to.equal(false);
  });

  it('folderOf reads webkitRelativePath without the name, and is empty for other files', () => {
    const inFolder = (relative: string) => {
      const file = new File(['x'], 'a.txt');
      Object.defineProperty(file, 'webkitRelativePath', { value: relative });
      return file;
    };
    expect(folderOf(inFolder('top/sub/a.txt'))).to.equal('top/sub');
    expect(folderOf(inFolder('a.txt'))).to.equal('');
    expect(folderOf(inFolder(''))).to.equal('');
    expect(folderOf(new File(['x'], 'a.txt'))).to.equal('');
  });
});

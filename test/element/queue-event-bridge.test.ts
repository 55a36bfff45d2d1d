// What each queue event means for the element, step by step: the element event (bubbling decided by the
// element), the announcement (with plural forms) and the listed rejection.
import { expect } from '@open-wc/testing';
import { UploadError } from '../../src/core/index.ts';
import { mergeI18n } from '../../src/element/i18n.ts';
import { reactionTo } from '../../src/element/queue-event-bridge.ts';

const t = mergeI18n(null);
const file = new File(['x'], 'f.bin');
const item = { file, status: 'sending' } as never;
const event = (type: string, detail: unknown) => new CustomEvent(type, { detail });

describe('queue event bridge', () => {
  it('announces additions with plural forms, and nothing for a status other than connecting', () => {
    expect(reactionTo(event('add', { items: [item] }), t, 'en')).to.deep.equal({ announce: '1 file added.' });
    expect(reactionTo(event('add', { items: [item, item] }), t, 'en').announce).to.equal('2 files added.');
    expect(reactionTo(event('status', { item }), t)).to.deep.equal({});
    const connecting = { file, status: 'connecting' } as never;
    expect(reactionTo(event('status', { item: connecting }), t).announce).to.equal('Uploading f.bin.');
  });

  it('turns a rejection into a listed message, an announcement and file-rejected', () => {
    const reaction = reactionTo(event('reject', { file, reason: 'fileTooBig' }), t);
    expect(reaction.rejection).to.deep.equal({ name: 'f.bin', message: 'This file is too big.' });
    expect(reaction.emit).to.deep.equal({
      type: 'file-rejected',
      detail: { file, reason: 'fileTooBig', message: 'This file is too big.' },
    });
  });

  it('re-dispatches errors with the i18n message, and pause and resume with the file', () => {
    const error = new UploadError('answerTimeout', 'no answer');
    const failed = reactionTo(event('error', { item, error }), t);
    expect(failed.emit).to.deep.equal({
      type: 'error',
      detail: { file, error, message: 'The server stopped answering.' },
    });
    expect(reactionTo(event('pause', { item }), t)).to.deep.equal({
      announce: 'f.bin paused.',
      emit: { type: 'pause', detail: { file } },
    });
    expect(reactionTo(event('resume', { item }), t).emit).to.deep.equal({ type: 'resume', detail: { file } });
  });

  it('re-dispatches a warning with the file, its code and message, and announces nothing', () => {
    const detail = { item, code: 'integrityNotGranted', message: 'not verified' };
    expect(reactionTo(event('warning', detail), t)).to.deep.equal({
      emit: { type: 'warning', detail: { file, code: 'integrityNotGranted', message: 'not verified' } },
    });
  });

  it('says how the queue ended, in the plural form of its count', () => {
    const one = reactionTo(event('complete', { items: [item], succeeded: 1, failed: 0 }), t, 'en');
    expect(one.announce).to.equal('The upload finished: 1 of 1 uploaded.');
    const two = reactionTo(event('complete', { items: [item, item], succeeded: 1, failed: 1 }), t, 'en');
    expect(two.announce).to.equal('All uploads finished: 1 of 2 uploaded.');
    expect(reactionTo(event('remove', { item }), t)).to.deep.equal({});
  });
});

// The admission of a STOR (src/server/stor-admission.ts) step by step, without a socket: the name and folder
// path sanitised, a hostile path refused with 400, the admit hook asked with what the session stores, its
// refusal passed through, and its sub-folder put in front of the file's own folders.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StorCommand } from '../../src/protocol/index.ts';
import type { UploadAnnouncement } from '../../src/server/session-events.ts';
import { admitStor } from '../../src/server/stor-admission.ts';

const OPTIONS = { flattenFolders: false, maxFolderDepth: 4, maxFolderPathLength: 200 };

function stor(fields: Partial<StorCommand> = {}): StorCommand {
  return { command: 'STOR', filename: 'a.bin', size: 10, type: 'binary', parameters: ['p'], ...fields };
}

describe('admitStor', () => {
  it('admits with no hook: the sanitised name, no folder, the v1 ext mime', async () => {
    const admitted = await admitStor(
      stor({ filename: '../x.bin', ext: { mime: 'text/plain' } }),
      null,
      OPTIONS,
      {},
    );
    assert.equal(admitted.ok, true);
    if (!admitted.ok) return;
    assert.ok(!admitted.filename.includes('/'), admitted.filename);
    assert.equal(admitted.folder, undefined);
    assert.equal(admitted.mime, 'text/plain');
  });

  it('refuses a path past the depth bound with 400 before asking the hook', async () => {
    let asked = 0;
    const admitted = await admitStor(stor({ path: 'a/b/c/d/e/f' }), null, OPTIONS, {
      admit: () => (asked++, { ok: true }),
    });
    assert.equal(admitted.ok, false);
    if (admitted.ok) return;
    assert.equal(admitted.refusal.code, 400);
    assert.equal(admitted.refusal.answerType, 'STOR');
    assert.equal(asked, 0);
  });

  it('asks the hook with the sanitised path, and puts its folder in front of the file’s', async () => {
    const seen: UploadAnnouncement[] = [];
    const admitted = await admitStor(stor({ path: 'photos/2024' }), null, OPTIONS, {
      admit: async (upload) => (seen.push(upload), { ok: true, folder: 'alice' }),
    });
    assert.deepEqual(seen[0], {
      filename: 'a.bin',
      requestedName: 'a.bin',
      size: 10,
      mime: undefined,
      parameters: ['p'],
      path: 'photos/2024',
    });
    assert.equal(admitted.ok && admitted.folder, 'alice/photos/2024');
  });

  it('passes the hook’s refusal through, with its code, message and retryAfter', async () => {
    const admitted = await admitStor(stor(), null, OPTIONS, {
      admit: () => ({ ok: false, code: 429, message: 'Too many.', retryAfter: 3 }),
    });
    assert.equal(admitted.ok, false);
    if (admitted.ok) return;
    assert.deepEqual(admitted.refusal.answer(), {
      type: 'STOR',
      code: 429,
      message: 'Too many.',
      retryAfter: 3,
    });
  });

  it('drops the file’s folders when flattening', async () => {
    const admitted = await admitStor(stor({ path: 'a/b' }), null, { ...OPTIONS, flattenFolders: true }, {});
    assert.equal(admitted.ok && admitted.folder, undefined);
  });
});

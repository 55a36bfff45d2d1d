// Property-based checks of the filename sanitiser: whatever a client sends, the result is one safe segment.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { MAX_NAME_BYTES, numberedName, sanitizeFilename } from '../../src/server/naming.ts';

const DIR = path.resolve('/srv/uploads');
// Characters an attacker reaches for, mixed into arbitrary unicode so that fast-check tries them often.
const hostileChar = fc.constantFrom(
  '/',
  '\\',
  '.',
  '..',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u202e',
  '\u2066',
  '\u200b',
  '\ufeff',
  ':',
  '*',
  '?',
  '"',
  '<',
  '>',
  '|',
  ' ',
  'CON',
  'nul',
  'com1',
  'LPT9',
  'e\u0301',
  '\u0301',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  'e\u200b\u0301',
  'a',
  'C:',
  '~',
);
const hostileName = fc
  .array(
    fc.oneof(hostileChar, fc.string({ unit: 'grapheme', maxLength: 4 }), fc.string({ unit: 'binary' })),
    {
      maxLength: 40,
    },
  )
  .map((parts) => parts.join(''));
const anyName = fc.oneof(hostileName, fc.string({ unit: 'binary', maxLength: 600 }));

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

describe('sanitizeFilename (properties)', () => {
  it('always yields one non-empty segment that resolves directly inside the folder', () => {
    fc.assert(
      fc.property(anyName, (name) => {
        const safe = sanitizeFilename(name);
        assert.ok(safe.length > 0);
        assert.ok(!/[/\\]/.test(safe) && !safe.includes('\u0000'), JSON.stringify(safe));
        assert.notEqual(safe, '.');
        assert.notEqual(safe, '..');
        assert.equal(path.dirname(path.resolve(DIR, safe)), DIR);
        assert.equal(path.basename(safe), safe);
        assert.equal(path.resolve(DIR, numberedName(safe, 12)).startsWith(DIR + path.sep), true);
      }),
      { numRuns: 3000 },
    );
  });

  it('is bounded, NFC, free of controls and bidi overrides, never hidden, never a reserved device name', () => {
    fc.assert(
      fc.property(anyName, (name) => {
        const safe = sanitizeFilename(name);
        assert.ok(Buffer.byteLength(safe) <= MAX_NAME_BYTES, `${Buffer.byteLength(safe)} bytes`);
        assert.equal(safe, safe.normalize('NFC'), JSON.stringify(safe));
        // eslint-disable-next-line no-control-regex -- the point of the check
        assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(safe), JSON.stringify(safe));
        assert.ok(!safe.startsWith('.'), JSON.stringify(safe));
        assert.ok(!/[ .]$/.test(safe), JSON.stringify(safe));
        assert.ok(!RESERVED.test(safe.split('.')[0]!.trim()), JSON.stringify(safe));
        // No lone surrogate halves: the name must be valid UTF-16 to become a valid UTF-8 file name.
        assert.equal(Buffer.from(safe, 'utf8').toString('utf8'), safe);
      }),
      { numRuns: 3000 },
    );
  });

  it('is idempotent: a safe name stays as it is', () => {
    fc.assert(
      fc.property(anyName, (name) => {
        const safe = sanitizeFilename(name);
        assert.equal(sanitizeFilename(safe), safe);
      }),
      { numRuns: 2000 },
    );
  });
});

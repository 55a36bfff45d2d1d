import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { LOOKALIKE_FOLD, MAX_NAME_BYTES, numberedName, sanitizeFilename } from '../../src/server/naming.ts';

describe('sanitizeFilename', () => {
  const cases: [string, string][] = [
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', '_.._etc_passwd'],
    ['/etc/passwd', '_etc_passwd'],
    ['..\\..\\boot.ini', '_.._boot.ini'],
    ['..', 'file'],
    ['.', 'file'],
    ['.htaccess', 'htaccess'],
    ['a\u0000b.txt', 'ab.txt'],
    ['invoice\u202efdp.exe', 'invoicefdp.exe'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['com1.log', '_com1.log'],
    ['console.txt', 'console.txt'],
    ['what?*.txt', 'what__.txt'],
    ['trailing. . ', 'trailing'],
    ['Cafe\u0301.txt', 'Caf\u00e9.txt'],
    ['', 'file'],
    // Look-alikes that NFKC or a Windows code page turns into dots and separators.
    ['\uff0e\uff0e\uff0f\uff0e\uff0e\uff0fetc', '_.._etc'],
    ['\uff0e\uff0e', 'file'],
    ['\u2025', 'file'],
    ['\u2024\u2024\u2215x', '_x'],
    ['\uff0ehidden', 'hidden'],
    ['a\uff3cb\ufe68c', 'a_b_c'],
    ['\uff23\uff2f\uff2e.txt', '_\uff23\uff2f\uff2e.txt'],
    ['what\uff1f\uff0a\uff1a.txt', 'what___.txt'],
    ['trailing\uff0e', 'trailing'],
  ];
  for (const [input, expected] of cases) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
      assert.equal(sanitizeFilename(input), expected);
    });
  }

  it('folds every BMP character whose NFKC form is only dots, separators or Windows-forbidden characters', () => {
    const targets = /^[./\\<>:"|?*]+$/;
    for (let code = 0xa0; code <= 0xffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCharCode(code);
      const folded = char.normalize('NFKC');
      if (folded === char || !targets.test(folded)) continue;
      assert.equal(LOOKALIKE_FOLD.get(char), folded, `U+${code.toString(16)} → ${folded}`);
      // And what is left of it in a name is none of those characters, under NFKC either.
      const safe = sanitizeFilename(`a${char}b`);
      assert.doesNotMatch(safe.normalize('NFKC'), /[/\\<>:"|?*]|^\./, `U+${code.toString(16)}: ${safe}`);
    }
  });

  it('bounds long names in UTF-8 bytes and keeps the extension', () => {
    const name = sanitizeFilename('é'.repeat(5000) + '.tar.gz');
    assert.ok(Buffer.byteLength(name) <= MAX_NAME_BYTES);
    assert.ok(name.endsWith('.gz'));
    const emoji = sanitizeFilename('🎉'.repeat(200));
    assert.ok(Buffer.byteLength(emoji) <= MAX_NAME_BYTES);
    assert.equal(emoji, Array.from(emoji).join(''), 'no broken surrogate');
    assert.ok(!emoji.includes('\ufffd'));
  });

  it('always yields one path segment that stays inside the folder', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const alphabet = ['.', '/', '\\', '..', 'a', 'é', '\u0000', '\u202e', ' ', 'CON', ':', '~', '%2e'];
    for (let i = 0; i < 3000; i++) {
      let input = '';
      const length = Math.floor(random() * 12);
      for (let j = 0; j < length; j++) input += alphabet[Math.floor(random() * alphabet.length)];
      const name = sanitizeFilename(input);
      assert.ok(name.length > 0);
      assert.equal(path.basename(name), name, input);
      assert.equal(path.resolve('/up', name).startsWith('/up/'), true, input);
      assert.ok(!name.startsWith('.'), input);
    }
  });
});

describe('numberedName', () => {
  it('numbers before the extension', () => {
    assert.equal(numberedName('a.txt', 0), 'a.txt');
    assert.equal(numberedName('a.txt', 2), 'a (2).txt');
    assert.equal(numberedName('noext', 1), 'noext (1)');
  });
});

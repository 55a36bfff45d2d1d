import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MAX_NAME_BYTES, numberedName, sanitizeFilename } from '../../src/server/naming.ts';

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
  ];
  for (const [input, expected] of cases) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
      assert.equal(sanitizeFilename(input), expected);
    });
  }

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

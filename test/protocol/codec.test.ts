import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  base64DecodedLength,
  formatAnswer,
  formatAuth,
  formatStor,
  isBase64,
  looksLikeCommand,
  parseAnswer,
  parseCommand,
  ProtocolError,
  type ParseResult,
} from '../../src/protocol/index.ts';

function expectError<T>(result: ParseResult<T>, code: string, status = 400): ProtocolError {
  assert.equal(result.ok, false, `expected a ${code} error, got ${JSON.stringify(result)}`);
  if (result.ok) throw new Error('unreachable');
  assert.ok(result.error instanceof ProtocolError);
  assert.equal(result.error.code, code);
  assert.equal(result.error.status, status);
  assert.ok(result.error.message.length > 0);
  return result.error;
}

function expectOk<T>(result: ParseResult<T>): T {
  if (!result.ok) assert.fail(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

describe('parseCommand', () => {
  describe('STOR', () => {
    it('parses the colon spelling the 2012 client sends', () => {
      const stor = expectOk(
        parseCommand('STOR: {"filename":"a.txt","size":4200,"type":"base64","parameters":[]}'),
      );
      assert.deepEqual(stor, {
        command: 'STOR',
        filename: 'a.txt',
        size: 4200,
        type: 'base64',
        parameters: [],
      });
    });

    it('parses the spelling without a colon from the seed README', () => {
      const stor = expectOk(parseCommand('STOR {"filename":"b.bin","size":1,"type":"binary"}'));
      assert.equal(stor.command, 'STOR');
      assert.equal(stor.command === 'STOR' && stor.type, 'binary');
    });

    it('tolerates surrounding whitespace and newlines inside the JSON', () => {
      const stor = expectOk(parseCommand('  \n STOR:\t{\n "filename": "c", "size": 0\n}\n  '));
      assert.equal(stor.command === 'STOR' && stor.size, 0);
    });

    it('defaults type to base64 and parameters to an empty list', () => {
      const stor = expectOk(parseCommand('STOR: {"filename":"d","size":3}'));
      assert.deepEqual(stor, { command: 'STOR', filename: 'd', size: 3, type: 'base64', parameters: [] });
    });

    it('keeps unicode file names intact', () => {
      const name = 'Résumé 日本語 🎉 \u202e.txt';
      const stor = expectOk(
        parseCommand(formatStor({ filename: name, size: 5, type: 'binary', parameters: [] })),
      );
      assert.equal(stor.command === 'STOR' && stor.filename, name);
    });

    it('keeps v and ext for the negotiation layer', () => {
      const stor = expectOk(parseCommand('STOR: {"filename":"e","size":1,"v":2,"ext":{"window":8}}'));
      assert.equal(stor.command === 'STOR' && stor.v, 2);
      assert.deepEqual(stor.command === 'STOR' && stor.ext, { window: 8 });
    });

    for (const [label, size] of [
      ['negative', '-1'],
      ['fractional', '1.5'],
      ['a string', '"12"'],
      ['null', 'null'],
      ['too big to be exact', '1e18'],
      ['an object', '{}'],
    ] as const) {
      it(`refuses a size that is ${label}`, () => {
        expectError(parseCommand(`STOR: {"filename":"x","size":${size}}`), 'badField');
      });
    }

    it('refuses a missing size, a missing or empty filename and an unknown type', () => {
      expectError(parseCommand('STOR: {"filename":"x"}'), 'badField');
      expectError(parseCommand('STOR: {"size":1}'), 'badField');
      expectError(parseCommand('STOR: {"filename":"","size":1}'), 'badField');
      expectError(parseCommand('STOR: {"filename":42,"size":1}'), 'badField');
      expectError(parseCommand('STOR: {"filename":"x","size":1,"type":"hex"}'), 'badField');
    });

    it('refuses bad v and ext fields', () => {
      expectError(parseCommand('STOR: {"filename":"x","size":1,"v":"2"}'), 'badField');
      expectError(parseCommand('STOR: {"filename":"x","size":1,"ext":[1]}'), 'badField');
    });
  });

  describe('AUTH', () => {
    it('parses login and password', () => {
      const auth = expectOk(parseCommand('AUTH: {"login":"ann","password":"s3cret"}'));
      assert.deepEqual(auth, { command: 'AUTH', login: 'ann', password: 's3cret' });
    });

    it('parses a token', () => {
      assert.deepEqual(expectOk(parseCommand('AUTH {"token":"t0k"}')), { command: 'AUTH', token: 't0k' });
    });

    it('refuses AUTH without credentials or with non-string fields', () => {
      expectError(parseCommand('AUTH: {}'), 'badField');
      expectError(parseCommand('AUTH: {"login":["a"],"password":"b"}'), 'badField');
    });
  });

  describe('malformed input', () => {
    it('refuses an empty or blank message', () => {
      expectError(parseCommand(''), 'emptyMessage');
      expectError(parseCommand('   '), 'emptyMessage');
    });

    it('refuses bad JSON, JSON that is not an object, and a command with no body', () => {
      expectError(parseCommand('STOR: {"filename":'), 'badJson');
      expectError(parseCommand('STOR: {filename: "x"}'), 'badJson');
      expectError(parseCommand('STOR:'), 'badJson');
      expectError(parseCommand('STOR: [1]'), 'badJson');
    });

    it('refuses unknown and lower-case commands', () => {
      expectError(parseCommand('DELE: {"filename":"x"}'), 'unknownCommand');
      expectError(parseCommand('stor: {"filename":"x","size":1}'), 'unknownCommand');
      expectError(parseCommand('hello'), 'unknownCommand');
    });

    it('refuses input over the length limit with 413 before parsing it', () => {
      expectError(
        parseCommand(`STOR: {"filename":"${'a'.repeat(100)}","size":1}`, 64),
        'messageTooLong',
        413,
      );
    });

    it('survives JSON nested 10,000 deep without throwing', () => {
      const deep = `STOR: {"filename":"x","size":1,"parameters":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      const result = parseCommand(deep, 1_000_000);
      assert.equal(typeof result.ok, 'boolean');
    });

    it('never throws on arbitrary strings', () => {
      let seed = 42;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const alphabet = 'STORAUTH:{}"[], \n\\0123456789ez-.';
      for (let i = 0; i < 2000; i++) {
        let text = '';
        const length = Math.floor(random() * 40);
        for (let j = 0; j < length; j++) text += alphabet[Math.floor(random() * alphabet.length)];
        assert.equal(typeof parseCommand(text).ok, 'boolean');
      }
    });
  });
});

describe('looksLikeCommand', () => {
  it('is true for both STOR spellings and AUTH, and for misspelt commands', () => {
    assert.ok(looksLikeCommand('STOR: {}'));
    assert.ok(looksLikeCommand('STOR {}'));
    assert.ok(looksLikeCommand('  AUTH:{"login":"a"}'));
    assert.ok(looksLikeCommand('stor: {}'));
  });

  it('is false for base64 data, which has neither ":" nor "{"', () => {
    assert.equal(looksLikeCommand('STORAUTHaGVsbG8='), false);
    assert.equal(looksLikeCommand(btoa('STOR: {"a":1}')), false);
  });
});

describe('format', () => {
  it('formats AUTH and STOR as the 2012 client did, on one line', () => {
    assert.equal(formatAuth({ login: 'a', password: 'b' }), 'AUTH: {"login":"a","password":"b"}');
    const stor = formatStor({ filename: 'line\nbreak.txt', size: 2, type: 'base64', parameters: [] });
    assert.equal(stor, 'STOR: {"filename":"line\\nbreak.txt","size":2,"type":"base64","parameters":[]}');
    assert.equal(stor.includes('\n'), false);
  });

  it('formats answers with fields in the 2012 order and leaves out undefined ones', () => {
    assert.equal(
      formatAnswer({ type: 'DATA', code: 200, bytesRead: 3 }),
      '{"type":"DATA","code":200,"bytesRead":3}',
    );
    assert.equal(
      formatAnswer({
        bytesRead: undefined,
        message: 'Upload initialized. Wait for data',
        code: 200,
        type: 'STOR',
      }),
      '{"type":"STOR","code":200,"message":"Upload initialized. Wait for data"}',
    );
    assert.equal(
      formatAnswer({ type: 'STOR', code: 429, message: 'busy', retryAfter: 1000 }),
      '{"type":"STOR","code":429,"message":"busy","retryAfter":1000}',
    );
  });
});

describe('parseAnswer', () => {
  it('round-trips every answer type', () => {
    for (const type of ['AUTH', 'STOR', 'DATA'] as const) {
      const text = formatAnswer({
        type,
        code: 200,
        message: 'ok',
        bytesRead: type === 'DATA' ? 7 : undefined,
      });
      assert.deepEqual(expectOk(parseAnswer(text)), JSON.parse(text));
    }
  });

  it('keeps error codes and extra fields', () => {
    const answer = expectOk(parseAnswer('{"type":"STOR","code":413,"message":"too big","limit":5}'));
    assert.equal(answer.code, 413);
    assert.equal(answer.limit, 5);
  });

  it('refuses what is not an answer', () => {
    for (const text of [
      '',
      'nope',
      '[]',
      'null',
      '{"code":200}',
      '{"type":"DATA"}',
      '{"type":"X","code":200}',
      '{"type":"DATA","code":"200"}',
      '{"type":"DATA","code":200,"bytesRead":-1}',
      '{"type":"STOR","code":200,"message":5}',
    ]) {
      expectError(parseAnswer(text), 'badAnswer');
    }
  });
});

describe('base64', () => {
  it('accepts what btoa produces, for every padding length', () => {
    for (const raw of ['', 'a', 'ab', 'abc', 'abcd', '\u00ff\u0000\u00fe']) {
      const text = btoa(raw);
      assert.ok(isBase64(text), text);
      assert.equal(base64DecodedLength(text), raw.length);
    }
  });

  it('refuses junk, whitespace, bad padding, data URL prefixes and url-safe characters', () => {
    for (const text of [
      'abc',
      'ab=c',
      'a===',
      '====',
      'YW Jj',
      'YWJj\n',
      'data:;base64,YWJj',
      'YW-_',
      'YWJj!!!!',
    ]) {
      assert.equal(isBase64(text), false, text);
    }
  });

  it('checks a megabyte chunk without running out of stack', () => {
    const text = 'QUJD'.repeat(512 * 1024);
    assert.ok(isBase64(text));
    assert.equal(base64DecodedLength(text), 3 * 512 * 1024);
  });
});

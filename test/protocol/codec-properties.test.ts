// Property-based checks of the wire parsers: arbitrary input never throws, and every refusal carries a
// documented status and a stable reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatStor,
  isBase64,
  looksLikeCommand,
  parseAnswer,
  parseCommand,
  ProtocolError,
} from '../../src/protocol/index.ts';

// Command-shaped text: a (possibly wrong) command word, a separator, then JSON or something close to it.
const commandish = fc
  .tuple(
    fc.constantFrom('AUTH', 'STOR', 'FIN', 'ABOR', 'stor', 'HELO', 'STORE', ' STOR', 'DATA', ''),
    fc.constantFrom(': ', ':', ' ', '', ' : ', '\n'),
    fc.oneof(
      fc.json(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.object().map((value) => JSON.stringify(value) ?? '{}'),
      fc.string({ unit: 'binary' }),
      fc
        .record(
          {
            filename: fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.constant(null)),
            size: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), fc.constant(1e18)),
            type: fc.oneof(fc.constantFrom('base64', 'binary'), fc.string()),
            parameters: fc.anything(),
          },
          { requiredKeys: [] },
        )
        .map((body) => JSON.stringify(body)),
    ),
  )
  .map(([word, separator, body]) => word + separator + body);
const anyText = fc.oneof(commandish, fc.string({ unit: 'binary', maxLength: 2000 }));

describe('parseCommand (properties)', () => {
  it('never throws and answers ok or a 400/413 ProtocolError', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 1, max: 5000 }), (text, maxLength) => {
        const result = parseCommand(text, maxLength);
        if (result.ok) {
          assert.ok(['AUTH', 'STOR', 'FIN', 'ABOR'].includes(result.value.command));
          return;
        }
        assert.ok(result.error instanceof ProtocolError);
        assert.ok(result.error.status === 400 || result.error.status === 413, String(result.error.status));
        assert.ok(result.error.message.length > 0);
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts a STOR only with a non-empty string name and a safe non-negative integer size', () => {
    fc.assert(
      fc.property(commandish, (text) => {
        const result = parseCommand(text);
        if (!result.ok || result.value.command !== 'STOR') return;
        assert.equal(typeof result.value.filename, 'string');
        assert.ok(result.value.filename.length > 0);
        assert.ok(
          Number.isSafeInteger(result.value.size) && result.value.size >= 0,
          String(result.value.size),
        );
        assert.ok(result.value.type === 'base64' || result.value.type === 'binary');
      }),
      { numRuns: 5000 },
    );
  });

  it('reads back every STOR it formats', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1 }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom('base64', 'binary'),
        fc.jsonValue(),
        (filename, size, type, parameters) => {
          const result = parseCommand(formatStor({ filename, size, type, parameters }), Infinity);
          assert.ok(result.ok, !result.ok ? result.error.message : '');
          assert.equal(result.value.command, 'STOR');
          if (result.value.command === 'STOR') {
            assert.equal(result.value.filename, filename);
            assert.equal(result.value.size, size);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never takes base64 data for a command', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const text = Buffer.from(data).toString('base64');
        assert.ok(isBase64(text));
        assert.equal(looksLikeCommand(text), false);
      }),
      { numRuns: 2000 },
    );
  });

  it('survives JSON nested 10,000 deep', () => {
    const deep = 'STOR: ' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const result = parseCommand(deep, 1_000_000);
    assert.equal(result.ok, false);
    const array = `STOR: {"filename":"a","size":1,"parameters":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    assert.doesNotThrow(() => parseCommand(array, 1_000_000));
  });
});

describe('parseAnswer (properties)', () => {
  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ unit: 'binary' })), (text) => {
        const result = parseAnswer(text);
        if (!result.ok) assert.equal(result.error.code, 'badAnswer');
      }),
      { numRuns: 3000 },
    );
  });
});

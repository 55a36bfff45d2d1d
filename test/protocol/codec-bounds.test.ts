// The command parser's bounds (issue 15): its work is linear in the frame, and nesting is limited before
// JSON.parse runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_JSON_DEPTH, parseCommand } from '../../src/protocol/index.ts';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('parseCommand bounds', () => {
  it('takes parameters nested to the depth limit and refuses one level more with 400', () => {
    // The body object itself is one level.
    const at = parseCommand(
      `STOR: {"filename":"a","size":1,"parameters":${nested(DEFAULT_MAX_JSON_DEPTH - 1)}}`,
    );
    assert.ok(at.ok);
    const over = parseCommand(
      `STOR: {"filename":"a","size":1,"parameters":${nested(DEFAULT_MAX_JSON_DEPTH)}}`,
    );
    assert.equal(over.ok, false);
    if (!over.ok) {
      assert.equal(over.error.status, 400);
      assert.match(over.error.message, /nested deeper than 64/);
    }
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = `STOR: {"filename":"${'[{\\"'.repeat(200)}","size":1}`;
    const parsed = parseCommand(text);
    assert.ok(parsed.ok, !parsed.ok ? parsed.error.message : '');
  });

  it('takes a custom depth limit', () => {
    assert.equal(parseCommand('STOR: {"filename":"a","size":1,"parameters":[[1]]}', 1000, 2).ok, false);
    assert.equal(parseCommand('STOR: {"filename":"a","size":1,"parameters":[1]}', 1000, 2).ok, true);
  });

  it('splits the command word from the body whatever the white space around the colon', () => {
    for (const text of [
      'STOR:{"filename":"a","size":1}',
      'STOR {"filename":"a","size":1}',
      ' \tSTOR \n: \r{"filename":"a","size":1}\n ',
      'STOR\u3000:\u00a0{"filename":"a","size":1}',
    ]) {
      const parsed = parseCommand(text);
      assert.ok(parsed.ok, JSON.stringify(text));
    }
    for (const text of [
      'STOR: :{"filename":"a","size":1}',
      'STOR: {"filename":"a","size":1} x',
      'STORE1 {}',
    ]) {
      assert.equal(parseCommand(text).ok, false, JSON.stringify(text));
    }
  });
});

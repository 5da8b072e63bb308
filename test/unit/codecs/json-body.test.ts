import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { parseJsonBody } from '../../../src/main/codecs/json-body.js';

const limits = { maxDepth: 64 };

function rejects(text: string, pattern: RegExp, maxDepth = 64): void {
  assert.throws(
    () => parseJsonBody(text, { maxDepth }),
    (err: unknown) =>
      err instanceof ServingError && err.code === 'INVALID_ARGUMENT' && pattern.test(err.message),
  );
}

describe('parseJsonBody', () => {
  it('parses standard JSON', () => {
    assert.deepEqual(parseJsonBody('{"instances": [1, 2.5, "x", true, null]}', limits), {
      instances: [1, 2.5, 'x', true, null],
    });
  });

  it('accepts bare NaN, Infinity and -Infinity tokens outside strings', () => {
    const v = parseJsonBody('{"inputs": [NaN, Infinity, -Infinity, 1, [ -Infinity ]]}', limits) as {
      inputs: unknown[];
    };
    assert.ok(Number.isNaN(v.inputs[0]));
    assert.equal(v.inputs[1], Infinity);
    assert.equal(v.inputs[2], -Infinity);
    assert.equal(v.inputs[3], 1);
    assert.deepEqual(v.inputs[4], [-Infinity]);
  });

  it('reads the tokens at the top level and as object values', () => {
    assert.ok(Number.isNaN(parseJsonBody(' NaN ', limits)));
    assert.deepEqual(parseJsonBody('{"a": -Infinity, "b": {"c": [Infinity]}}', limits), {
      a: -Infinity,
      b: { c: [Infinity] },
    });
  });

  it('leaves the tokens alone inside strings, escaped quotes included', () => {
    const v = parseJsonBody(
      '{"a": "NaN", "b": "say \\"Infinity\\"", "c": NaN, "d": "\\\\"}',
      limits,
    ) as Record<string, unknown>;
    assert.equal(v['a'], 'NaN');
    assert.equal(v['b'], 'say "Infinity"');
    assert.ok(Number.isNaN(v['c']));
    assert.equal(v['d'], '\\');
  });

  it('rejects malformed JSON with the parser message', () => {
    rejects('{"instances": [1, 2', /^JSON Parse error: /);
    rejects('{"a": 1,}', /^JSON Parse error: /);
    rejects('', /^JSON Parse error: /);
  });

  it('rejects tokens that merely start like NaN or Infinity', () => {
    rejects('[NaNa]', /^JSON Parse error: /);
    rejects('[Inf]', /^JSON Parse error: /);
    rejects('[nan]', /^JSON Parse error: /);
  });

  it('rejects nesting over the limit, naming the limit', () => {
    rejects('[[[1]]]', /limit of 2/, 2);
    assert.deepEqual(parseJsonBody('[[1]]', { maxDepth: 2 }), [[1]]);
    assert.deepEqual(parseJsonBody('{"a": {"b": 1}}', { maxDepth: 2 }), { a: { b: 1 } });
    rejects('{"a": [{"b": 1}]}', /limit of 2/, 2);
  });

  it('does not count brackets inside strings', () => {
    assert.deepEqual(parseJsonBody('["[[[[", "{{{{"]', { maxDepth: 1 }), ['[[[[', '{{{{']);
  });

  it('rejects a 100k-deep array without overflowing the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    rejects(deep, /nesting depth exceeds the limit of 64/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { parseJsonBody, readJsonBody } from '../../../src/main/codecs/json-body.js';
import { JsonNumber } from '../../../src/main/codecs/json-number.js';

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

describe('parseJsonBody with exactNumbers', () => {
  const exact = (text: string) => parseJsonBody(text, limits, { exactNumbers: true });
  const source = (v: unknown) => (v instanceof JsonNumber ? `#${v.source}` : v);

  it('keeps 1.0, 1e3 and integers over 15 digits as JsonNumber with their source text', () => {
    const v = exact('[1.0, 1e3, 2E-0, -0.0, 9007199254740993, 1.5, 12, 123456789012345, 1e400]') as unknown[];
    assert.deepEqual(v.map(source), [
      '#1.0',
      '#1e3',
      '#2E-0',
      '#-0.0',
      '#9007199254740993',
      1.5,
      12,
      123456789012345,
      Infinity,
    ]);
    const big = v[4] as JsonNumber;
    assert.equal(big.integral, true);
    assert.equal((v[0] as JsonNumber).integral, false);
    assert.equal((v[0] as JsonNumber).value, 1);
  });

  it('leaves strings, other values and the NaN tokens as before', () => {
    const v = exact('{"a": "1.0", "b": [true, false, null, NaN, -Infinity], "c": -9223372036854775808}') as {
      a: string;
      b: unknown[];
      c: JsonNumber;
    };
    assert.equal(v.a, '1.0');
    assert.deepEqual(v.b.slice(0, 3), [true, false, null]);
    assert.ok(Number.isNaN(v.b[3]));
    assert.equal(v.b[4], -Infinity);
    assert.equal(v.c.source, '-9223372036854775808');
    assert.equal(exact('1.0') instanceof JsonNumber, true);
  });

  it('still rejects malformed numbers with the parser message', () => {
    const bad = (text: string) =>
      assert.throws(
        () => exact(text),
        (err: unknown) => err instanceof ServingError && /^JSON Parse error: /.test(err.message),
        text,
      );
    bad('[1.]');
    bad('[01.0]');
    bad('[1.0.0]');
    bad('[--1.0]');
    bad('[1.0e]');
    bad('[1.0x]');
  });

  it('gives plain numbers without the option', () => {
    assert.deepEqual(parseJsonBody('[1.0, 1e3, 9007199254740993]', limits), [1, 1000, 9007199254740992]);
  });
});

describe('readJsonBody', () => {
  it('gives both readings, re-parsing only when needed', () => {
    const plain = readJsonBody('{"x": [1, 2]}', limits);
    assert.equal(plain.exact(), plain.value);
    const decimal = readJsonBody('{"x": [1.0, 2]}', limits);
    assert.deepEqual(decimal.value, { x: [1, 2] });
    const x = (decimal.exact() as { x: unknown[] }).x;
    assert.ok(x[0] instanceof JsonNumber);
    assert.equal(x[1], 2);
    assert.equal(decimal.exact(), decimal.exact());
  });
});

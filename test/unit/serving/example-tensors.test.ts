import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { PREDICT_METHOD, type Signature } from '../../../src/core/signature.js';
import { JsonNumber } from '../../../src/main/codecs/json-number.js';
import type { Feature, Features } from '../../../src/main/codecs/tf-example.js';
import { decodeInputObject, mergeContext } from '../../../src/main/codecs/tf-example.js';
import { examplesToTensors, type FeedPlan } from '../../../src/main/serving/example-tensors.js';

const MODEL: Signature = {
  inputs: [
    { name: 'f', dtype: 'float64', shape: [-1, 2] },
    { name: 'i', dtype: 'int32', shape: [-1] },
    { name: 'l', dtype: 'int64', shape: [-1, -1] },
    { name: 's', dtype: 'string', shape: [-1, 1] },
  ],
  outputs: [],
  batched: true,
  methodName: PREDICT_METHOD,
};
const PLAN: FeedPlan = {
  name: 'sig',
  feeds: [
    ['ff', 'f'],
    ['ii', 'i'],
    ['ll', 'l'],
    ['ss', 's'],
  ],
};

const ex = (o: Record<string, Feature>): Features => new Map(Object.entries(o));
const good = (i: number): Features =>
  ex({
    ff: { kind: 'float_list', values: [i, i + 0.5] },
    ii: { kind: 'int64_list', values: [BigInt(i)] },
    ll: { kind: 'int64_list', values: [2n ** 40n, -1n, BigInt(i)] },
    ss: { kind: 'bytes_list', values: [Buffer.from(`s${i}`)] },
  });

function rejects(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ServingError);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('examplesToTensors', () => {
  it('stacks each feature along the batch dim, typed by the input it feeds', () => {
    const t = examplesToTensors([good(1), good(2)], PLAN, MODEL);
    assert.deepEqual(t.f.shape, [2, 2]);
    assert.deepEqual(Array.from(t.f.data as Float64Array), [1, 1.5, 2, 2.5]);
    assert.ok(t.f.data instanceof Float64Array);
    assert.deepEqual(t.i.shape, [2]);
    assert.deepEqual(Array.from(t.i.data as Int32Array), [1, 2]);
    assert.deepEqual(t.l.shape, [2, 3], 'the unknown dim comes from the feature length');
    assert.deepEqual(Array.from(t.l.data as BigInt64Array), [2n ** 40n, -1n, 1n, 2n ** 40n, -1n, 2n]);
    assert.deepEqual(t.s.shape, [2, 1]);
    assert.deepEqual(
      (t.s.data as Uint8Array[]).map((b) => Buffer.from(b).toString()),
      ['s1', 's2'],
    );
  });

  it('types REST values by the input: numbers, exact integers, strings and b64', () => {
    const json = ex({
      ff: { kind: 'json', values: [1, new JsonNumber('2.0')] },
      ii: { kind: 'json', values: [new JsonNumber('7')] },
      ll: { kind: 'json', values: [new JsonNumber('9007199254740993')] },
      ss: { kind: 'json', values: [{ b64: Buffer.from('hi').toString('base64') }] },
    });
    const t = examplesToTensors([json], PLAN, MODEL);
    assert.deepEqual(Array.from(t.f.data as Float64Array), [1, 2]);
    assert.deepEqual(Array.from(t.i.data as Int32Array), [7]);
    assert.deepEqual(Array.from(t.l.data as BigInt64Array), [9007199254740993n]);
    assert.equal(Buffer.from((t.s.data as Uint8Array[])[0]).toString(), 'hi');
  });

  it('names the feature for a wrong kind, a fraction for an integer input, or an out-of-range value', () => {
    const with_ = (name: string, f: Feature) => new Map([...good(0), [name, f]]);
    rejects(
      () => examplesToTensors([with_('ii', { kind: 'float_list', values: [1] })], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Feature 'ii' in example 0 is a float_list; input 'i' \(int32\) takes a int64_list/,
    );
    rejects(
      () => examplesToTensors([with_('ss', { kind: 'int64_list', values: [1n] })], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Feature 'ss'.*bytes_list/,
    );
    rejects(
      () => examplesToTensors([with_('ii', { kind: 'json', values: [1.5] })], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Feature 'ii' in example 0: input 'i' \(int32\) takes integers/,
    );
    rejects(
      () => examplesToTensors([with_('ii', { kind: 'json', values: [new JsonNumber('1.0')] })], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /takes integers \(an int64_list\), got 1.0/,
    );
    rejects(
      () => examplesToTensors([with_('ii', { kind: 'int64_list', values: [2n ** 31n] })], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Feature 'ii' in example 0: value 2147483648 is out of range for input 'i' \(int32\)/,
    );
    rejects(
      () => examplesToTensors([with_('ff', { kind: 'json', values: ['a', 'b'] })], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Feature 'ff'.*takes numbers/,
    );
  });

  it('refuses missing features, ragged lengths, lengths the shape cannot take, and no examples', () => {
    const missing = new Map(good(0));
    missing.delete('ll');
    rejects(
      () => examplesToTensors([good(0), missing], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Example 1 is missing feature 'll'/,
    );
    const short = new Map([...good(1), ['ll', { kind: 'int64_list', values: [1n] } as Feature]]);
    rejects(
      () => examplesToTensors([good(0), short], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Feature 'll' has ragged lengths/,
    );
    const wide = new Map([...good(0), ['ff', { kind: 'float_list', values: [1, 2, 3] } as Feature]]);
    rejects(
      () => examplesToTensors([wide], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Feature 'ff' has 3 values per example/,
    );
    rejects(
      () => examplesToTensors([], PLAN, MODEL),
      'INVALID_ARGUMENT',
      /Signature 'sig': the request has no examples/,
    );
  });

  it('FAILED_PRECONDITION when the signature does not fit the model', () => {
    rejects(
      () => examplesToTensors([good(0)], { name: 'sig', feeds: PLAN.feeds.slice(1) }, MODEL),
      'FAILED_PRECONDITION',
      /Signature 'sig' feeds no feature to model input 'f'/,
    );
    rejects(
      () => examplesToTensors([good(0)], { name: 'sig', feeds: [...PLAN.feeds, ['zz', 'z']] }, MODEL),
      'FAILED_PRECONDITION',
      /maps feature 'zz' to input 'z', which the model does not have/,
    );
  });
});

describe('tf.Example input', () => {
  it('decodes gRPC lists (int64 strings to bigint) and merges the context', () => {
    const input = decodeInputObject({
      kind: 'example_list_with_context',
      example_list_with_context: {
        context: { features: { feature: { c: { kind: 'int64_list', int64_list: { value: ['12'] } } } } },
        examples: [{ features: { feature: { e: { kind: 'float_list', float_list: { value: [1] } } } } }, {}],
      },
    });
    const merged = mergeContext(input);
    assert.equal(merged.length, 2);
    assert.deepEqual(merged[0].get('c'), { kind: 'int64_list', values: [12n] });
    assert.deepEqual(merged[0].get('e'), { kind: 'float_list', values: [1] });
    assert.deepEqual([...merged[1].keys()], ['c']);
  });

  it('refuses an Input with no kind', () => {
    rejects(() => decodeInputObject({}), 'INVALID_ARGUMENT', /Input is empty/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DType } from '../../../src/core/dtype.js';
import type { Signature } from '../../../src/core/signature.js';
import type { TensorMap } from '../../../src/core/tensor.js';
import { readJsonBody } from '../../../src/main/codecs/json-body.js';
import { decodeFastPredict, parseFastPredictBody } from '../../../src/main/codecs/tfs-fast-predict.js';
import { decodePredictRequest, hasIntegerInputs } from '../../../src/main/codecs/tfs-predict-request.js';

function sig(dtype: DType, n = 1): Signature {
  return {
    inputs: Array.from({ length: n }, (_, i) => ({ name: `x${i}`, dtype, shape: [-1] })),
    outputs: [{ name: 'y', dtype: 'float32', shape: [-1] }],
    batched: true,
    methodName: 'tensorflow/serving/predict',
  };
}

const MAX_ELEMENTS = 1 << 20;

function fast(text: string, s: Signature, maxDepth = 64): TensorMap | undefined {
  const body = parseFastPredictBody(Buffer.from(text), maxDepth);
  return body === undefined ? undefined : decodeFastPredict(body, s, MAX_ELEMENTS);
}

/** The general path's tensors for `text` (as the REST route decodes them). */
function general(text: string, s: Signature): TensorMap {
  const parsed = readJsonBody(text, { maxDepth: 64 });
  const input = hasIntegerInputs(s) ? parsed.exact() : parsed.value;
  return decodePredictRequest(input, s, { maxElements: MAX_ELEMENTS }).inputs;
}

function sameAsGeneral(text: string, s: Signature): void {
  const got = fast(text, s);
  assert.ok(got !== undefined, `fast path declined ${text.slice(0, 80)}`);
  const want = general(text, s);
  assert.deepEqual(Object.keys(got), Object.keys(want));
  for (const k of Object.keys(want)) {
    assert.equal(got[k].dtype, want[k].dtype);
    assert.deepEqual(got[k].shape, want[k].shape);
    assert.equal(got[k].data.constructor, want[k].data.constructor);
    assert.deepEqual(Array.from(got[k].data as Float64Array), Array.from(want[k].data as Float64Array));
    assert.ok(Object.is(got[k].data[0], want[k].data[0]), 'signed zero kept');
  }
}

function nest(values: string[], shape: number[]): string {
  let k = 0;
  const build = (d: number): string =>
    d === shape.length ? values[k++] : `[${Array.from({ length: shape[d] }, () => build(d + 1)).join(',')}]`;
  return build(0);
}

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('tfs-fast-predict', () => {
  it('decodes float32 image bodies exactly as JSON.parse + decodePredictRequest do', () => {
    const rnd = lcg(7);
    for (let trial = 0; trial < 20; trial++) {
      const values = Array.from({ length: 2 * 28 * 28 }, () => {
        const r = rnd();
        const x = (r - 0.3) * 10 ** Math.floor(rnd() * 12 - 6);
        // As clients write them: float32 values printed as doubles (17 digits), short decimals, integers.
        if (r < 0.6) return String(Math.fround(x));
        if (r < 0.8) return x.toFixed(Math.floor(rnd() * 8));
        return String(Math.round(x));
      });
      const text = `{"instances": ${nest(values, [2, 28, 28, 1])}}`;
      sameAsGeneral(text, sig('float32'));
    }
  });

  it('never stores a float32 other than the general path near rounding boundaries', () => {
    // Decimal strings at and around float32 midpoints, with 9-22 significant digits and
    // exponents: declining is allowed, a different element is not.
    const rnd = lcg(11);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const f32 = sig('float32');
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      f[0] = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 20 - 10);
      const a = f[0];
      u[0] += 1;
      const mid = (a + f[0]) / 2;
      const nudge = mid * (1 + (rnd() - 0.5) * 2 ** -40);
      for (const x of [mid, nudge]) {
        const digits = 9 + (i % 14);
        const text = `{"instances": [${x.toPrecision(digits)}, ${x.toExponential(digits - 1)}]}`;
        const got = fast(text, f32);
        if (got === undefined) continue;
        accepted++;
        const want = general(text, f32);
        assert.deepEqual(
          Array.from(got.x0.data as Float32Array),
          Array.from(want.x0.data as Float32Array),
          text,
        );
      }
    }
    assert.ok(accepted > 4000, `only ${accepted} accepted`);
  });

  it('handles columnar bodies, signature_name, whitespace, exponents and negative zero', () => {
    sameAsGeneral('{"inputs": [[1, 2.5], [3e2, -4E-1]]}', sig('float32'));
    sameAsGeneral(' {\n "signature_name" : "serving_default",\t"instances":[ -0 , 1 ] }\r\n', sig('float64'));
    sameAsGeneral('{"instances": [[1, 2], [3, 4]], "signature_name": "s"}', sig('int32'));
    sameAsGeneral('{"instances": [255, 0]}', sig('uint8'));
    sameAsGeneral('{"instances": [0.1, 0.2, 123456789.123456]}', sig('float64'));
    const body = parseFastPredictBody(Buffer.from('{"signature_name":"s","inputs":[1]}'), 64);
    assert.equal(body?.signatureName, 's');
    assert.equal(body?.format, 'columnar');
  });

  it('declines what the general path must decide (errors, other dtypes, inexact reads)', () => {
    const f32 = sig('float32');
    const declined = [
      '{"instances": [[1, 2], [3]]}', // ragged
      '{"instances": [[1, 2], 3]}',
      '{"instances": [1, [2]]}',
      '{"instances": []}',
      '{"instances": [[]]}',
      '{"instances": 1}',
      '{"instances": [NaN]}',
      '{"instances": [Infinity]}',
      '{"instances": [01]}',
      '{"instances": [1.]}',
      '{"instances": [.5]}',
      '{"instances": [+1]}',
      '{"instances": [-]}',
      '{"instances": [1e]}',
      '{"instances": [1e400]}',
      '{"instances": [1e39]}', // beyond float32
      '{"instances": [1,]}',
      '{"instances": [1] ,}',
      '{"instances": [1]} x',
      '{"instances": [1], "instances": [2]}',
      '{"instances": [1], "inputs": [2]}',
      '{"instances": [1], "other": 1}',
      '{"instances": [{"x0": 1}]}',
      '{"instances": ["a"]}',
      '{"instances": [true]}',
      '{"signature_name": "a\\"b", "instances": [1]}',
      '{"signature_name": 1, "instances": [1]}',
      '{"signature_name": "é", "instances": [1]}',
      '{}',
      '[1]',
      '',
      '{"instances": [1.0000000000000000000000001]}', // too many digits
    ];
    for (const text of declined) assert.equal(fast(text, f32), undefined, text);
    // Other dtypes and several inputs go the general way.
    for (const d of ['int64', 'bool', 'string', 'float16'] as DType[])
      assert.equal(fast('{"instances": [1]}', sig(d)), undefined, d);
    assert.equal(fast('{"instances": [1]}', sig('float32', 2)), undefined);
    // Integer dtypes take only plain integers (`1.0` is the general path's error), in range.
    assert.equal(fast('{"instances": [1.0]}', sig('int32')), undefined);
    assert.equal(fast('{"instances": [1e2]}', sig('int32')), undefined);
    assert.equal(fast('{"instances": [256]}', sig('uint8')), undefined);
    assert.equal(fast('{"instances": [-1]}', sig('uint32')), undefined);
    // 17-digit values are approximations: fine for float32, not for float64.
    assert.equal(fast('{"instances": [0.25234517455101013]}', sig('float64')), undefined);
    sameAsGeneral('{"instances": [0.25234517455101013]}', f32);
  });

  it('declines bodies over the depth or element limits', () => {
    const deep = `{"instances": ${'['.repeat(10)}1${']'.repeat(10)}}`;
    // Depth 11 (the object is 1): the same bound the general path's scan applies.
    assert.equal(fast(deep, sig('float32'), 10), undefined);
    assert.throws(() => readJsonBody(deep, { maxDepth: 10 }), /nesting depth exceeds the limit of 10/);
    assert.ok(fast(deep, sig('float32'), 11) !== undefined);
    readJsonBody(deep, { maxDepth: 11 });
    const body = parseFastPredictBody(Buffer.from('{"instances": [1, 2, 3]}'), 64)!;
    assert.equal(decodeFastPredict(body, sig('float32'), 2), undefined);
    assert.ok(decodeFastPredict(body, sig('float32'), 3) !== undefined);
  });

  it('grows past its initial scratch and keeps earlier results intact', () => {
    const first = parseFastPredictBody(Buffer.from('{"instances": [1, 2]}'), 64)!;
    const values = Array.from({ length: 10000 }, (_, i) => String(i));
    sameAsGeneral(`{"instances": [${values.join(',')}]}`, sig('float32'));
    assert.deepEqual(Array.from(first.values), [1, 2]);
  });
});

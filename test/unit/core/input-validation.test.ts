import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectOutputs, validateInputs } from '../../../src/core/input-validation.js';
import type { Signature } from '../../../src/core/signature.js';

const sig: Signature = {
  inputs: [
    { name: 'a', dtype: 'float32', shape: [-1, 3] },
    { name: 'b', dtype: 'int32', shape: [-1] },
  ],
  outputs: [
    { name: 'y', dtype: 'float32', shape: [-1] },
    { name: 'z', dtype: 'float32', shape: [-1] },
  ],
  batched: true,
  methodName: 'tensorflow/serving/predict',
};
const a = (rows: number) => ({
  dtype: 'float32' as const,
  shape: [rows, 3],
  data: new Float32Array(rows * 3),
});
const b = (rows: number) => ({ dtype: 'int32' as const, shape: [rows], data: new Int32Array(rows) });

describe('validateInputs', () => {
  it('returns the shared batch size', () => {
    assert.equal(validateInputs('m', sig, { a: a(2), b: b(2) }, 1000), 2);
  });
  it('names unknown, missing and mistyped inputs', () => {
    assert.throws(() => validateInputs('m', sig, { a: a(1), b: b(1), c: b(1) }, 1000), /Unknown input 'c'/);
    assert.throws(() => validateInputs('m', sig, { a: a(1) }, 1000), /Missing input 'b'/);
    assert.throws(
      () =>
        validateInputs(
          'm',
          sig,
          { a: a(1), b: { ...b(1), dtype: 'int64', data: new BigInt64Array(1) } },
          1000,
        ),
      /Input 'b' of model 'm' must be int32, got int64/,
    );
  });
  it('rejects shapes the signature does not allow', () => {
    const wrong = { dtype: 'float32' as const, shape: [1, 4], data: new Float32Array(4) };
    assert.throws(
      () => validateInputs('m', sig, { a: wrong, b: b(1) }, 1000),
      /has shape \[1,4\], but the signature expects \[-1,3\]/,
    );
    assert.throws(() => validateInputs('m', sig, { a: a(2), b: b(3) }, 1000), /disagree on the batch size/);
    assert.throws(() => validateInputs('m', sig, { a: a(0), b: b(0) }, 1000), /empty batch/);
  });
  it('enforces the element limit', () => {
    assert.throws(() => validateInputs('m', sig, { a: a(10), b: b(10) }, 12), /more than the limit of 12/);
  });
  it('every failure is INVALID_ARGUMENT', () => {
    assert.throws(() => validateInputs('m', sig, {}, 10), { code: 'INVALID_ARGUMENT' });
  });
});

describe('selectOutputs', () => {
  it('defaults to all outputs in signature order and honours a filter', () => {
    assert.deepEqual(selectOutputs('m', sig, undefined), ['y', 'z']);
    assert.deepEqual(selectOutputs('m', sig, ['z']), ['z']);
    assert.throws(() => selectOutputs('m', sig, ['q']), /Unknown output 'q'/);
    assert.throws(() => selectOutputs('m', sig, ['y', 'y']), /more than once/);
  });
});

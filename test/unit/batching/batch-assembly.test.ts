import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assembleBatch,
  paddedBatchSize,
  shapeKeyOf,
  splitOutputs,
} from '../../../src/batching/batch-assembly.js';
import type { ServingError } from '../../../src/core/errors.js';
import type { TensorMap } from '../../../src/core/tensor.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function request(rows: number, base: number): TensorMap {
  const floats = Array.from({ length: rows * 3 }, (_, i) => base + i);
  return {
    f: { dtype: 'float32', shape: [rows, 3], data: Float32Array.from(floats) },
    i: {
      dtype: 'int64',
      shape: [rows],
      data: BigInt64Array.from({ length: rows }, (_, k) => BigInt(base + k)),
    },
    b: { dtype: 'bool', shape: [rows, 1], data: Uint8Array.from({ length: rows }, () => 1) },
    s: {
      dtype: 'string',
      shape: [rows, 2],
      data: Array.from({ length: rows * 2 }, (_, k) => enc(`${base}-${k}`)),
    },
  };
}

describe('paddedBatchSize', () => {
  it('rounds up to the next allowed size, or keeps the size', () => {
    assert.equal(paddedBatchSize(3, [2, 4, 8]), 4);
    assert.equal(paddedBatchSize(4, [2, 4, 8]), 4);
    assert.equal(paddedBatchSize(5, []), 5);
    assert.equal(paddedBatchSize(9, [2, 4, 8]), 9);
  });
});

describe('assembleBatch and splitOutputs', () => {
  const parts = [request(1, 0), request(2, 100), request(3, 200)];

  it('concatenates several dtypes of several-row requests into fresh buffers, padded with zeros', () => {
    const batch = assembleBatch(parts, 8, false);
    assert.deepEqual(batch.f.shape, [8, 3]);
    assert.deepEqual(batch.i.shape, [8]);
    assert.deepEqual(batch.b.shape, [8, 1]);
    assert.deepEqual(batch.s.shape, [8, 2]);
    const f = batch.f.data as Float32Array;
    assert.ok(f instanceof Float32Array);
    assert.ok(f.buffer instanceof ArrayBuffer && !(f.buffer instanceof SharedArrayBuffer));
    assert.equal(f.byteOffset, 0);
    assert.equal(f.byteLength, f.buffer.byteLength);
    assert.deepEqual([...f.subarray(0, 3)], [0, 1, 2]);
    assert.deepEqual([...f.subarray(3, 9)], [100, 101, 102, 103, 104, 105]);
    assert.deepEqual([...f.subarray(9, 18)], [200, 201, 202, 203, 204, 205, 206, 207, 208]);
    assert.deepEqual([...f.subarray(18)], new Array(6).fill(0));
    assert.deepEqual([...(batch.i.data as BigInt64Array)], [0n, 100n, 101n, 200n, 201n, 202n, 0n, 0n]);
    assert.deepEqual([...(batch.b.data as Uint8Array)], [1, 1, 1, 1, 1, 1, 0, 0]);
    const s = (batch.s.data as Uint8Array[]).map(dec);
    assert.deepEqual(s.slice(0, 4), ['0-0', '0-1', '100-0', '100-1']);
    assert.deepEqual(s.slice(12), ['', '', '', '']);
  });

  it('does not alias the request buffers', () => {
    const batch = assembleBatch(parts, 6, false);
    (batch.f.data as Float32Array)[0] = 42;
    assert.equal((parts[0].f.data as Float32Array)[0], 0);
  });

  it('splits outputs into per-request views, dropping padding rows', () => {
    const batch = assembleBatch(parts, 8, false);
    const results = splitOutputs(batch, [1, 2, 3]);
    assert.equal(results.length, 3);
    for (let r = 0; r < 3; r++) {
      for (const name of ['f', 'i', 'b', 's']) {
        assert.deepEqual(results[r][name].shape, parts[r][name].shape, `${name} of request ${r}`);
        assert.deepEqual(results[r][name].data, parts[r][name].data);
      }
    }
    // Views, not copies.
    assert.equal((results[2].f.data as Float32Array).buffer, (batch.f.data as Float32Array).buffer);
    assert.equal((results[2].f.data as Float32Array).byteOffset, 9 * 4);
  });

  it('refuses outputs with fewer rows than the batch', () => {
    const outputs: TensorMap = { y: { dtype: 'float32', shape: [2], data: new Float32Array(2) } };
    assert.throws(
      () => splitOutputs(outputs, [1, 2]),
      (e: ServingError) => e.code === 'INTERNAL',
    );
  });

  it('handles views into larger, offset buffers', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 4, 9]);
    const part: TensorMap = { x: { dtype: 'float32', shape: [2, 2], data: backing.subarray(2, 6) } };
    const batch = assembleBatch([part, part], 4, false);
    assert.deepEqual([...(batch.x.data as Float32Array)], [1, 2, 3, 4, 1, 2, 3, 4]);
  });
});

describe('padVariableLengthInputs', () => {
  it('pads each non-batch dim up to the batch maximum with zeros', () => {
    const a: TensorMap = { x: { dtype: 'int32', shape: [1, 2], data: Int32Array.from([1, 2]) } };
    const b: TensorMap = { x: { dtype: 'int32', shape: [2, 3], data: Int32Array.from([3, 4, 5, 6, 7, 8]) } };
    const batch = assembleBatch([a, b], 4, true);
    assert.deepEqual(batch.x.shape, [4, 3]);
    assert.deepEqual([...(batch.x.data as Int32Array)], [1, 2, 0, 3, 4, 5, 6, 7, 8, 0, 0, 0]);
  });

  it('pads inner dims of rank-3 tensors and strings', () => {
    const a: TensorMap = {
      x: { dtype: 'float64', shape: [1, 1, 2], data: Float64Array.from([1, 2]) },
      s: { dtype: 'string', shape: [1, 1], data: [enc('a')] },
    };
    const b: TensorMap = {
      x: { dtype: 'float64', shape: [1, 2, 1], data: Float64Array.from([3, 4]) },
      s: { dtype: 'string', shape: [1, 2], data: [enc('b'), enc('c')] },
    };
    const batch = assembleBatch([a, b], 2, true);
    assert.deepEqual(batch.x.shape, [2, 2, 2]);
    assert.deepEqual([...(batch.x.data as Float64Array)], [1, 2, 0, 0, 3, 0, 4, 0]);
    assert.deepEqual((batch.s.data as Uint8Array[]).map(dec), ['a', '', 'b', 'c']);
  });
});

describe('shapeKeyOf', () => {
  it('differs by non-batch dims, not by rows', () => {
    const k = (rows: number, w: number) =>
      shapeKeyOf({ x: { dtype: 'float32', shape: [rows, w], data: new Float32Array(rows * w) } });
    assert.equal(k(1, 3), k(5, 3));
    assert.notEqual(k(1, 3), k(1, 4));
  });
});

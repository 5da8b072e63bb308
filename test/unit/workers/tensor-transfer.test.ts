import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareTransfer } from '../../../src/workers/tensor-transfer.js';

describe('prepareTransfer', () => {
  it('moves a buffer the array covers exactly', () => {
    const data = new Float32Array(4);
    const { tensors, transferList } = prepareTransfer({ a: { dtype: 'float32', shape: [4], data } });
    assert.equal(tensors.a.data, data);
    assert.deepEqual(transferList, [data.buffer]);
  });

  it('copies views, shared buffers and Node Buffers into buffers of their own', () => {
    const slab = new Int32Array([1, 2, 3, 4]);
    const shared = new Float64Array(new SharedArrayBuffer(16));
    const nodeBuffer = Buffer.from([1, 2, 3]);
    const { tensors, transferList } = prepareTransfer({
      view: { dtype: 'int32', shape: [2], data: slab.subarray(1, 3) },
      shared: { dtype: 'float64', shape: [2], data: shared },
      bytes: { dtype: 'uint8', shape: [3], data: nodeBuffer },
    });
    assert.equal(transferList.length, 3);
    for (const t of Object.values(tensors)) {
      const data = t.data as ArrayBufferView;
      assert.ok(transferList.includes(data.buffer as ArrayBuffer));
      assert.equal(data.byteOffset, 0);
      assert.equal(data.byteLength, data.buffer.byteLength);
    }
    assert.deepEqual([...(tensors.view.data as Int32Array)], [2, 3]);
    assert.ok(tensors.bytes.data instanceof Uint8Array && !Buffer.isBuffer(tensors.bytes.data));
    assert.deepEqual([...(tensors.bytes.data as Uint8Array)], [1, 2, 3]);
  });

  it('lists a buffer once when two tensors share it', () => {
    const data = new Float32Array(2);
    const { transferList } = prepareTransfer({
      a: { dtype: 'float32', shape: [2], data },
      b: { dtype: 'float32', shape: [1], data: data.subarray(1) },
    });
    assert.deepEqual(transferList, [data.buffer]);
  });

  it('narrows string elements to their own bytes and never moves them', () => {
    const body = new TextEncoder().encode('hello world');
    const { tensors, transferList } = prepareTransfer({
      s: { dtype: 'string', shape: [1], data: [body.subarray(6)] },
    });
    const [s] = tensors.s.data as Uint8Array[];
    assert.equal(s.buffer.byteLength, 5);
    assert.equal(new TextDecoder().decode(s), 'world');
    assert.deepEqual(transferList, []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { NumericTypedArray } from '../../../src/core/dtype.js';
import {
  packStrings,
  prepareTransfer,
  receiveTransfer,
  unpackStrings,
  type WireTensor,
  type WireTensorMap,
} from '../../../src/workers/tensor-transfer.js';

function dataOf(t: WireTensor): NumericTypedArray {
  assert.ok(!('packed' in t), 'a numeric tensor');
  return t.data;
}

/** Posts `tensors` through a real MessagePort with `transferList` and returns what arrives. */
async function postThrough(tensors: WireTensorMap, transferList: ArrayBuffer[]): Promise<WireTensorMap> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<WireTensorMap>((resolve) =>
    (port2 as MessagePort).once('message', (m: WireTensorMap) => resolve(m)),
  );
  port1.postMessage(tensors, transferList);
  try {
    return await received;
  } finally {
    port1.close();
  }
}

describe('prepareTransfer', () => {
  it('moves a buffer the array covers exactly', () => {
    const data = new Float32Array(4);
    const { tensors, transferList } = prepareTransfer({ a: { dtype: 'float32', shape: [4], data } });
    assert.equal(dataOf(tensors.a), data);
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
      const data = dataOf(t);
      assert.ok(transferList.includes(data.buffer as ArrayBuffer));
      assert.equal(data.byteOffset, 0);
      assert.equal(data.byteLength, data.buffer.byteLength);
    }
    assert.deepEqual([...(dataOf(tensors.view) as Int32Array)], [2, 3]);
    const bytes = dataOf(tensors.bytes);
    assert.ok(bytes instanceof Uint8Array && !Buffer.isBuffer(bytes));
    assert.deepEqual([...bytes], [1, 2, 3]);
  });

  it('lists a buffer once when two tensors share it', () => {
    const data = new Float32Array(2);
    const { transferList } = prepareTransfer({
      a: { dtype: 'float32', shape: [2], data },
      b: { dtype: 'float32', shape: [1], data: data.subarray(1) },
    });
    assert.deepEqual(transferList, [data.buffer]);
  });

  it('packs a string tensor into one buffer that is transferred, not cloned, and round-trips', async () => {
    const encoder = new TextEncoder();
    const body = encoder.encode('hello world');
    const elements = [
      body.subarray(6), // a view into a larger buffer
      new Uint8Array(0),
      encoder.encode('grüße, 世界 🙂'),
      Uint8Array.from([0, 255, 128, 0xc3]), // not valid UTF-8: bytes, not text
      new Uint8Array(0),
    ];
    const { tensors, transferList } = prepareTransfer({
      s: { dtype: 'string', shape: [5], data: elements },
      n: { dtype: 'float32', shape: [1], data: Float32Array.of(1.5) },
    });
    const wire = tensors.s;
    assert.ok('packed' in wire);
    const packed = wire.packed;
    assert.ok(transferList.includes(packed), 'the packed buffer is in the transfer list');
    assert.equal(transferList.length, 2);

    const arrived = await postThrough(tensors, transferList);
    assert.equal(packed.byteLength, 0, 'the packed buffer was detached in the sender (moved)');
    const out = receiveTransfer(arrived);
    assert.deepEqual(out.s.shape, [5]);
    const strings = out.s.data as Uint8Array[];
    assert.equal(strings.length, 5);
    for (let i = 0; i < elements.length; i++)
      assert.deepEqual([...strings[i]], [...elements[i]], `element ${i}`);
    assert.equal(new TextDecoder().decode(strings[2]), 'grüße, 世界 🙂');
    assert.equal(strings[0].buffer, strings[2].buffer, 'elements are views into one buffer');
    assert.deepEqual([...(out.n.data as Float32Array)], [1.5]);
    // The sender's own elements are untouched.
    assert.equal(new TextDecoder().decode(elements[0]), 'world');
  });

  it('packs and unpacks empty tensors and JS strings', () => {
    assert.deepEqual(unpackStrings(packStrings([])), []);
    const [a, b] = unpackStrings(packStrings(['', 'é']));
    assert.equal(a.byteLength, 0);
    assert.deepEqual([...b], [0xc3, 0xa9]);
  });
});

import * as tf from '@tensorflow/tfjs';
import type { NumericTypedArray } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import type { TensorSpec } from '../../core/signature.js';
import type { Tensor } from '../../core/tensor.js';

/**
 * Conversions between tensorserve's Tensor and tfjs tensors. tfjs computes in float32,
 * int32, bool and string only: other integer inputs are widened or narrowed to int32
 * (64-bit values must fit), float64 narrows to float32; int64 outputs the signature
 * promises are widened back to BigInt64Array.
 */

/** Builds a tfjs tensor over (or, for narrowed dtypes, from) our tensor's data. */
export function toTfTensor(name: string, t: Tensor): tf.Tensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
    case 'int32':
      return tf.tensor(t.data as Float32Array | Int32Array, shape, t.dtype);
    case 'bool':
      return tf.tensor(t.data as Uint8Array, shape, 'bool');
    case 'string':
      return tf.tensor(t.data as Uint8Array[], shape, 'string');
    case 'float64':
      return tf.tensor(Float32Array.from(t.data as Float64Array), shape, 'float32');
    case 'int8':
    case 'int16':
    case 'uint8':
    case 'uint16':
      return tf.tensor(Int32Array.from(t.data as NumericTypedArray as Int16Array), shape, 'int32');
    case 'int64':
    case 'uint64':
    case 'uint32':
      return tf.tensor(
        narrowToInt32(name, t.data as BigInt64Array | BigUint64Array | Uint32Array),
        shape,
        'int32',
      );
    default:
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Input '${name}': dtype ${t.dtype} is not supported by TF.js`,
      );
  }
}

function narrowToInt32(name: string, data: BigInt64Array | BigUint64Array | Uint32Array): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (v > 2147483647 || v < -2147483648) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Input '${name}': value ${data[i]} does not fit in int32 (TF.js)`,
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * Reads a tfjs tensor into our tensor. `copy` is needed when the backend's readSync may
 * return its own storage (cpu, tensorflow); wasm already copies out of its heap.
 */
export function fromTfTensor(t: tf.Tensor, spec: TensorSpec | undefined, copy: boolean): Tensor {
  const shape = [...t.shape];
  if (t.dtype === 'string') {
    return { dtype: 'string', shape, data: (t.dataSync() as unknown as Uint8Array[]).map((b) => b.slice()) };
  }
  const raw = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  if (spec?.dtype === 'int64' && t.dtype === 'int32') {
    return { dtype: 'int64', shape, data: BigInt64Array.from(raw as Int32Array, (v) => BigInt(v)) };
  }
  const dtype = t.dtype === 'bool' ? 'bool' : (t.dtype as 'float32' | 'int32');
  const data = copy || raw.byteOffset !== 0 || raw.byteLength !== raw.buffer.byteLength ? raw.slice() : raw;
  return {
    dtype,
    shape,
    data: data instanceof Uint8Array || t.dtype !== 'bool' ? data : Uint8Array.from(data),
  };
}

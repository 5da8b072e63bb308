import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { type DType, isDType, type NumericTypedArray } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import type { TensorSpec } from '../../core/signature.js';
import type { Tensor } from '../../core/tensor.js';

/**
 * Conversions between tensorserve's Tensor and onnxruntime-node's. ORT's element type
 * names are ours (`float32`, `int64`, `bool`, ...), and it takes the same TypedArrays:
 * int64 as BigInt64Array, bool as Uint8Array of 0/1, float16 as Uint16Array bit patterns.
 * Strings are the exception: ours are UTF-8 bytes, ORT's are JS strings.
 */

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** A signature entry from ORT metadata; symbolic or unknown dims become -1. */
export function specFromMetadata(meta: InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) {
    throw new ServingError(
      'FAILED_PRECONDITION',
      `ONNX value '${meta.name}' is not a tensor; only tensors can be served`,
    );
  }
  const dtype = meta.type as string;
  if (!isDType(dtype)) {
    throw new ServingError(
      'FAILED_PRECONDITION',
      `ONNX tensor '${meta.name}' has unsupported element type ${dtype}`,
    );
  }
  // ORT reports an empty shape both for scalars and for an unknown rank; treat it as a scalar.
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, dtype, shape };
}

/** Wraps our tensor's buffer in an ORT tensor. Numeric data in plain ArrayBuffers is not copied. */
export function toOrtTensor(name: string, t: Tensor): OrtTensor {
  try {
    if (t.dtype === 'string') {
      const strings = (t.data as Uint8Array[]).map((bytes) => utf8Decoder.decode(bytes));
      return new ort.Tensor('string', strings, t.shape);
    }
    const data = t.data as NumericTypedArray;
    // ORT rejects SharedArrayBuffer-backed inputs; batches normally arrive in plain buffers.
    return new ort.Tensor(t.dtype, data.buffer instanceof SharedArrayBuffer ? data.slice() : data, t.shape);
  } catch (err) {
    throw new ServingError('INVALID_ARGUMENT', `Input '${name}': ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Turns an ORT output into our tensor with a standalone buffer (transferable to the main
 * thread). onnxruntime-node 1.30 already returns one fresh ArrayBuffer per output on CPU,
 * so this copies only when that ever stops being true.
 */
export function fromOrtTensor(name: string, v: OrtTensor): Tensor {
  const dtype = v.type as DType;
  const shape = v.dims.map(Number);
  if (dtype === 'string') {
    return { dtype, shape, data: (v.data as string[]).map((s) => utf8Encoder.encode(s)) };
  }
  if (!isDType(dtype)) {
    throw new ServingError(
      'INTERNAL',
      `ONNX output '${name}' has unsupported element type ${String(v.type)}`,
    );
  }
  const data = v.data as NumericTypedArray;
  return { dtype, shape, data: isStandalone(data) ? data : data.slice() };
}

export function isStandalone(a: NumericTypedArray): boolean {
  return (
    !(a.buffer instanceof SharedArrayBuffer) && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength
  );
}

import { type DType, dtypeSize, type NumericTypedArray, typedArrayCtor } from './dtype.js';

/**
 * The one internal tensor. `data` is row-major. Numeric dtypes hold a TypedArray whose
 * length equals the element count; `string` tensors hold one Uint8Array of bytes per
 * element (TF Serving strings are bytes; UTF-8 text is the common case).
 *
 * Ownership: a Tensor handed to the scheduler belongs to it until the request settles;
 * callers must not mutate it. Buffers may be views into larger ArrayBuffers.
 */
export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: NumericTypedArray | Uint8Array[];
}

export type TensorMap = Record<string, Tensor>;

/** Product of the dims; 1 for a scalar. Callers validate dims beforehand. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Allocates a zero-filled tensor of the given dtype and shape. */
export function zeros(dtype: DType, shape: readonly number[]): Tensor {
  const n = elementCount(shape);
  if (dtype === 'string')
    return { dtype, shape: [...shape], data: Array.from({ length: n }, () => new Uint8Array(0)) };
  return { dtype, shape: [...shape], data: new (typedArrayCtor(dtype))(n) };
}

/** Byte size of a tensor's payload (strings: the sum of their lengths). */
export function byteSize(t: Tensor): number {
  if (t.dtype === 'string') {
    let n = 0;
    for (const s of t.data as Uint8Array[]) n += s.byteLength;
    return n;
  }
  return elementCount(t.shape) * dtypeSize(t.dtype);
}

export function isStringTensor(t: Tensor): t is Tensor & { data: Uint8Array[] } {
  return t.dtype === 'string';
}

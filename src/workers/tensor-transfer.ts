import { type NumericTypedArray, typedArrayCtor } from '../core/dtype.js';
import type { Tensor, TensorMap } from '../core/tensor.js';

/** A tensor map ready for `postMessage`, and the buffers to move with it. */
export interface TransferableTensors {
  readonly tensors: TensorMap;
  readonly transferList: ArrayBuffer[];
}

/**
 * Prepares tensors to cross a thread boundary without structured-cloning numeric data.
 * A numeric array that covers its whole (non-shared) ArrayBuffer is moved as is, and is
 * detached in the sender once posted; any other array (a view into a larger buffer, or
 * over a SharedArrayBuffer) is copied once into a buffer of its own, which is moved.
 * Structured clone would copy a view's whole underlying buffer, so string elements that
 * are views are narrowed to their own bytes first (strings are cloned, not moved).
 *
 * Used on both sides: the pool for batch inputs, the worker for outputs.
 */
export function prepareTransfer(map: TensorMap): TransferableTensors {
  const tensors: TensorMap = {};
  const moved = new Set<ArrayBuffer>();
  for (const [name, tensor] of Object.entries(map)) tensors[name] = prepareTensor(tensor, moved);
  return { tensors, transferList: [...moved] };
}

function prepareTensor(tensor: Tensor, moved: Set<ArrayBuffer>): Tensor {
  if (tensor.dtype === 'string') {
    const data = (tensor.data as Uint8Array[]).map((s) => (coversBuffer(s) ? s : new Uint8Array(s)));
    return { dtype: tensor.dtype, shape: tensor.shape, data };
  }
  let data = tensor.data as NumericTypedArray;
  // A buffer already moved by another tensor stays shared between both views on arrival.
  if (!coversBuffer(data) && !moved.has(data.buffer as ArrayBuffer)) {
    // Not `slice()`: on a Node Buffer that returns a view, not a copy.
    const copy = new (typedArrayCtor(tensor.dtype))(data.length);
    copy.set(data as never);
    data = copy;
  }
  moved.add(data.buffer as ArrayBuffer);
  return { dtype: tensor.dtype, shape: tensor.shape, data };
}

function coversBuffer(view: ArrayBufferView): boolean {
  return (
    view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength
  );
}

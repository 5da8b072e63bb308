import { type DType, type NumericTypedArray, typedArrayCtor } from '../core/dtype.js';
import { ServingError } from '../core/errors.js';
import type { Tensor, TensorMap } from '../core/tensor.js';

/**
 * A tensor as it crosses a thread boundary. Numeric data travels in a buffer that is moved
 * (transferred); a string tensor's elements travel packed into one moved ArrayBuffer (see
 * `packStrings`), so no tensor data is ever structured-cloned.
 */
export type WireTensor =
  | { readonly dtype: DType; readonly shape: readonly number[]; readonly data: NumericTypedArray }
  | { readonly dtype: 'string'; readonly shape: readonly number[]; readonly packed: ArrayBuffer };

export type WireTensorMap = Record<string, WireTensor>;

/** A tensor map ready for `postMessage`, and the buffers to move with it. */
export interface TransferableTensors {
  readonly tensors: WireTensorMap;
  readonly transferList: ArrayBuffer[];
}

/**
 * Prepares tensors to cross a thread boundary without structured-cloning their data.
 * A numeric array that covers its whole (non-shared) ArrayBuffer is moved as is, and is
 * detached in the sender once posted; any other array (a view into a larger buffer, or
 * over a SharedArrayBuffer) is copied once into a buffer of its own, which is moved.
 * String tensors are packed into one fresh buffer each (one copy of their bytes), moved.
 * The receiver calls `receiveTransfer`.
 *
 * Used on both sides: the pool for batch inputs, the worker for outputs. Throws
 * INVALID_ARGUMENT when a string tensor's bytes exceed 4 GiB.
 */
export function prepareTransfer(map: TensorMap): TransferableTensors {
  const tensors: WireTensorMap = {};
  const moved = new Set<ArrayBuffer>();
  for (const [name, tensor] of Object.entries(map)) tensors[name] = prepareTensor(tensor, moved);
  return { tensors, transferList: [...moved] };
}

/** Turns tensors received from `prepareTransfer` back into a TensorMap (strings are views, no copy). */
export function receiveTransfer(map: WireTensorMap): TensorMap {
  const tensors: TensorMap = {};
  for (const [name, t] of Object.entries(map)) {
    tensors[name] =
      'packed' in t
        ? { dtype: 'string', shape: t.shape, data: unpackStrings(t.packed) }
        : { dtype: t.dtype, shape: t.shape, data: t.data };
  }
  return tensors;
}

/**
 * Packs byte strings into one ArrayBuffer: a uint32 count n, n + 1 uint32 byte offsets
 * (from the buffer's start; element i is [offset i, offset i+1)), then the bytes. Elements
 * given as JS strings (a runtime may return them) are UTF-8 encoded.
 */
export function packStrings(data: readonly (Uint8Array | string)[]): ArrayBuffer {
  const encoder = new TextEncoder();
  const bytes = data.map((s) => (typeof s === 'string' ? encoder.encode(s) : s));
  const header = 4 * (bytes.length + 2);
  let total = header;
  for (const b of bytes) total += b.byteLength;
  if (total > 0xffff_ffff) {
    throw new ServingError('INVALID_ARGUMENT', 'A string tensor larger than 4 GiB cannot be transferred');
  }
  const buffer = new ArrayBuffer(total);
  const words = new Uint32Array(buffer, 0, bytes.length + 2);
  const out = new Uint8Array(buffer);
  words[0] = bytes.length;
  let at = header;
  for (let i = 0; i < bytes.length; i++) {
    words[i + 1] = at;
    out.set(bytes[i], at);
    at += bytes[i].byteLength;
  }
  words[bytes.length + 1] = at;
  return buffer;
}

/** Views of the elements packed by `packStrings` (into `packed`, no copy). */
export function unpackStrings(packed: ArrayBuffer): Uint8Array[] {
  const n = new Uint32Array(packed, 0, 1)[0];
  const offsets = new Uint32Array(packed, 4, n + 1);
  const out = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) out[i] = new Uint8Array(packed, offsets[i], offsets[i + 1] - offsets[i]);
  return out;
}

function prepareTensor(tensor: Tensor, moved: Set<ArrayBuffer>): WireTensor {
  if (tensor.dtype === 'string') {
    const packed = packStrings(tensor.data as readonly (Uint8Array | string)[]);
    moved.add(packed);
    return { dtype: 'string', shape: tensor.shape, packed };
  }
  let data = tensor.data as NumericTypedArray;
  // A buffer already moved by another tensor stays shared between both views on arrival.
  if (!coversBuffer(data) && !moved.has(data.buffer as ArrayBuffer)) {
    // Not `slice()`: on a Node Buffer that returns a view, not a copy.
    const copy = new (typedArrayCtor(tensor.dtype as Exclude<DType, 'string'>))(data.length);
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

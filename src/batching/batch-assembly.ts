import { dtypeSize, typedArrayCtor } from '../core/dtype.js';
import { ServingError } from '../core/errors.js';
import { elementCount, type Tensor, type TensorMap } from '../core/tensor.js';

/**
 * Batch assembly and splitting. `assembleBatch` concatenates requests along dim 0 into one
 * fresh (transferable, non-shared) ArrayBuffer per input, with exactly one copy of each
 * request's bytes; `splitOutputs` hands each request views of the batch's outputs (no copy).
 * Pure functions: the scheduler owns the inputs and decides sizes.
 */

const EMPTY_STRING = new Uint8Array(0);

/** The smallest allowed size ≥ rows; rows itself when the list is empty or none is big enough. */
export function paddedBatchSize(rows: number, allowed: readonly number[]): number {
  for (const size of allowed) if (size >= rows) return size;
  return rows;
}

/** Rows of a request: dim 0 of its (first) input. Callers validated that all inputs agree. */
export function rowsOf(inputs: TensorMap): number {
  for (const name in inputs) return inputs[name].shape[0] ?? 1;
  return 0;
}

/**
 * Key under which requests may share a batch without padding: input names and their
 * non-batch dims. Requests with different keys are not mixed unless padding is on.
 */
export function shapeKeyOf(inputs: TensorMap): string {
  const names = Object.keys(inputs);
  if (names.length > 1) names.sort();
  let key = '';
  for (const name of names) {
    const shape = inputs[name].shape;
    key += `${name}:`;
    for (let d = 1; d < shape.length; d++) key += d === 1 ? `${shape[d]}` : `,${shape[d]}`;
    key += ';';
  }
  return key;
}

/**
 * Concatenates `parts` (each a request's inputs, all with the same input names and ranks)
 * along dim 0, zero-padding up to `paddedRows` rows. With `padVariable`, each non-batch dim
 * is padded up to the largest among the parts (zeros / empty strings); otherwise the parts
 * must share their non-batch dims. Throws INTERNAL when `paddedRows` is below the parts' rows.
 */
export function assembleBatch(
  parts: readonly TensorMap[],
  paddedRows: number,
  padVariable: boolean,
): TensorMap {
  const batch: TensorMap = {};
  if (parts.length === 0) return batch;
  for (const name of Object.keys(parts[0])) {
    const tensors = parts.map((p) => p[name]);
    const inner = padVariable ? maxInnerDims(tensors) : tensors[0].shape.slice(1);
    batch[name] = concatRows(tensors, inner, paddedRows);
  }
  return batch;
}

/**
 * Splits each batch output into per-request views of `rows[i]` rows, in order, dropping
 * padding rows at the end. Throws INTERNAL when an output has fewer rows than the requests.
 */
export function splitOutputs(outputs: TensorMap, rows: readonly number[]): TensorMap[] {
  const total = rows.reduce((a, b) => a + b, 0);
  const results: TensorMap[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    if (t.shape.length === 0 || t.shape[0] < total) {
      throw new ServingError(
        'INTERNAL',
        `Model output ${name} has shape [${t.shape.join(',')}], not one row per batched input row (${total})`,
      );
    }
    const inner = t.shape.slice(1);
    const rowElems = elementCount(inner);
    let row = 0;
    for (let i = 0; i < rows.length; i++) {
      const start = row * rowElems;
      const end = (row + rows[i]) * rowElems;
      const data = Array.isArray(t.data) ? t.data.slice(start, end) : t.data.subarray(start, end);
      results[i][name] = { dtype: t.dtype, shape: [rows[i], ...inner], data };
      row += rows[i];
    }
  }
  return results;
}

/** Copies every tensor into its own fresh ArrayBuffer (for unbatched models, whose inputs run as is). */
export function copyTensors(inputs: TensorMap): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(inputs)) {
    if (Array.isArray(t.data)) {
      out[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() };
    } else {
      const bytes = new Uint8Array(t.data.byteLength);
      bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      out[name] = { dtype: t.dtype, shape: [...t.shape], data: viewAs(t, bytes.buffer) };
    }
  }
  return out;
}

function maxInnerDims(tensors: readonly Tensor[]): number[] {
  const inner = tensors[0].shape.slice(1);
  for (const t of tensors)
    for (let d = 1; d < t.shape.length; d++) inner[d - 1] = Math.max(inner[d - 1], t.shape[d]);
  return inner;
}

function concatRows(tensors: readonly Tensor[], inner: readonly number[], paddedRows: number): Tensor {
  const first = tensors[0];
  const rows = tensors.reduce((n, t) => n + t.shape[0], 0);
  if (paddedRows < rows) throw new ServingError('INTERNAL', `Batch of ${rows} rows cannot fit ${paddedRows}`);
  const rowElems = elementCount(inner);
  const shape = [paddedRows, ...inner];
  if (first.dtype === 'string') {
    const out = new Array<Uint8Array>(paddedRows * rowElems).fill(EMPTY_STRING);
    let at = 0;
    for (const t of tensors) {
      const src = t.data as Uint8Array[];
      forEachRun(t.shape, inner, (s, d, n) => {
        for (let i = 0; i < n; i++) out[at + d + i] = src[s + i];
      });
      at += t.shape[0] * rowElems;
    }
    return { dtype: first.dtype, shape, data: out };
  }
  const size = dtypeSize(first.dtype);
  const buffer = new ArrayBuffer(paddedRows * rowElems * size);
  const dst = new Uint8Array(buffer);
  let at = 0;
  for (const t of tensors) {
    const data = t.data as Exclude<Tensor['data'], Uint8Array[]>;
    const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (src.byteLength === t.shape[0] * rowElems * size) {
      dst.set(src, at * size); // no inner padding: the common case, one copy
    } else {
      forEachRun(t.shape, inner, (s, d, n) => {
        dst.set(src.subarray(s * size, (s + n) * size), (at + d) * size);
      });
    }
    at += t.shape[0] * rowElems;
  }
  return { dtype: first.dtype, shape, data: viewAs(first, buffer) };
}

function viewAs(t: Tensor, buffer: ArrayBuffer): Tensor['data'] {
  return new (typedArrayCtor(t.dtype as Exclude<Tensor['dtype'], 'string'>))(buffer);
}

/**
 * Calls `fn(srcIndex, dstIndex, length)` (element indices) for each contiguous run that
 * copies a tensor of `srcShape` into rows of `inner` dims (each ≥ the source's). One run
 * covers the whole tensor when no dim is padded.
 */
function forEachRun(
  srcShape: readonly number[],
  inner: readonly number[],
  fn: (src: number, dst: number, n: number) => void,
): void {
  const rank = srcShape.length;
  let padded = -1;
  for (let d = 1; d < rank; d++) if (srcShape[d] !== inner[d - 1]) padded = d;
  if (padded < 0) {
    fn(0, 0, elementCount(srcShape));
    return;
  }
  // Everything after the last padded dim is contiguous in both layouts.
  const run = elementCount(srcShape.slice(padded));
  const dstStrides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) dstStrides[d] = dstStrides[d + 1] * inner[d];
  const outer = srcShape.slice(0, padded);
  const index = new Array<number>(outer.length).fill(0);
  const count = elementCount(outer);
  for (let k = 0; k < count; k++) {
    let dst = 0;
    for (let d = 0; d < outer.length; d++) dst += index[d] * dstStrides[d];
    fn(k * run, dst, run);
    for (let d = outer.length - 1; d >= 0; d--) {
      if (++index[d] < outer[d]) break;
      index[d] = 0;
    }
  }
}

import { type CancelSignal, linkedCancel } from '../core/cancel-signal.js';
import { dtypeSize, typedArrayCtor } from '../core/dtype.js';
import { elementCount, type Tensor, type TensorMap } from '../core/tensor.js';
import type { RequestResult } from './queued-request.js';

/**
 * Large-batch splitting (TF Serving's enable_large_batch_splitting): a request with more
 * rows than one batch may hold runs as chunks of at most `chunkRows` rows, each queued on
 * its own and possibly sharing a batch with others, and the chunks' outputs are re-joined
 * in order. If any chunk fails, the request fails with that error and its still-queued
 * chunks are withdrawn.
 *
 * `runChunk` queues one chunk (it must honour `signal` while queued).
 */
export async function runInChunks(
  inputs: TensorMap,
  rows: number,
  chunkRows: number,
  signal: CancelSignal | undefined,
  runChunk: (inputs: TensorMap, rows: number, signal: CancelSignal) => Promise<RequestResult>,
): Promise<RequestResult> {
  const { signal: chunkSignal, withdraw, unlink } = linkedCancel(signal);
  const chunks: Promise<RequestResult>[] = [];
  for (let start = 0; start < rows; start += chunkRows) {
    const end = Math.min(rows, start + chunkRows);
    chunks.push(runChunk(sliceRows(inputs, start, end), end - start, chunkSignal));
  }
  try {
    return joinResults(await Promise.all(chunks));
  } catch (err) {
    withdraw();
    throw err;
  } finally {
    unlink();
  }
}

/** Rows [start, end) of every tensor, as views (no copy). */
export function sliceRows(inputs: TensorMap, start: number, end: number): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(inputs)) {
    const rowElems = elementCount(t.shape.slice(1));
    const from = start * rowElems;
    const to = end * rowElems;
    const data = Array.isArray(t.data) ? t.data.slice(from, to) : t.data.subarray(from, to);
    out[name] = { dtype: t.dtype, shape: [end - start, ...t.shape.slice(1)], data };
  }
  return out;
}

/**
 * Joins chunk results in order: outputs concatenated along dim 0 (one copy); queueMicros,
 * batchSize and paddedSize are the largest among the chunks; timings are summed.
 */
export function joinResults(parts: readonly RequestResult[]): RequestResult {
  const outputs: TensorMap = {};
  for (const name of Object.keys(parts[0].outputs)) outputs[name] = concat(parts.map((p) => p.outputs[name]));
  const max = (f: (r: RequestResult) => number) => Math.max(...parts.map(f));
  const sum = (f: (r: RequestResult) => number) => parts.reduce((n, r) => n + f(r), 0);
  return {
    outputs,
    queueMicros: max((r) => r.queueMicros),
    batchSize: max((r) => r.batchSize),
    paddedSize: max((r) => r.paddedSize),
    timings: {
      computeInputMicros: sum((r) => r.timings.computeInputMicros),
      computeInferMicros: sum((r) => r.timings.computeInferMicros),
      computeOutputMicros: sum((r) => r.timings.computeOutputMicros),
    },
  };
}

function concat(tensors: readonly Tensor[]): Tensor {
  const first = tensors[0];
  const rows = tensors.reduce((n, t) => n + t.shape[0], 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (first.dtype === 'string')
    return { dtype: first.dtype, shape, data: tensors.flatMap((t) => t.data as Uint8Array[]) };
  const size = dtypeSize(first.dtype);
  const dst = new Uint8Array(elementCount(shape) * size);
  let at = 0;
  for (const t of tensors) {
    const data = t.data as Exclude<Tensor['data'], Uint8Array[]>;
    dst.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return { dtype: first.dtype, shape, data: new (typedArrayCtor(first.dtype))(dst.buffer) };
}

import { ServingError } from '../../core/errors.js';
import type { Tensor, TensorMap } from '../../core/tensor.js';
import { type ElementFormatter, elementFormatter, strideOf, writeNested } from './json-tensor-writer.js';
import type { PredictFormat } from './tfs-predict-request.js';

/**
 * Encodes predict outputs as TF Serving REST JSON text, written directly (no
 * JSON.stringify of nested arrays).
 *
 * `row` → `{"predictions": ...}`, `columnar` → `{"outputs": ...}`. With one output its value
 * is written without its name; with several, row format gives one `{name: value}` object
 * per batch row and columnar format a `{name: tensor}` object. String outputs whose name
 * ends in `_bytes` are written as `{"b64": "..."}`. Floats are shortest for their dtype;
 * non-finite values are bare `NaN`/`Infinity`/`-Infinity`.
 *
 * `outputOrder` lists the outputs to write, in order. Called by the REST front end.
 * Throws INTERNAL when a listed output is missing, INVALID_ARGUMENT when row format is
 * asked of several outputs that do not share a leading (batch) dim.
 */
export function encodePredictResponse(
  outputs: TensorMap,
  format: PredictFormat,
  outputOrder: readonly string[],
): string {
  const tensors = outputOrder.map((name) => {
    const t = outputs[name];
    if (t === undefined)
      throw new ServingError('INTERNAL', `Output '${name}' is missing from the model's result`);
    return t;
  });
  const key = format === 'row' ? 'predictions' : 'outputs';
  if (tensors.length === 1) return `{"${key}":${writeTensor(tensors[0], outputOrder[0])}}`;
  if (format === 'columnar') {
    let s = '{"outputs":{';
    for (let k = 0; k < tensors.length; k++) {
      if (k > 0) s += ',';
      s += `${JSON.stringify(outputOrder[k])}:${writeTensor(tensors[k], outputOrder[k])}`;
    }
    return `${s}}}`;
  }
  return `{"predictions":${writeRows(tensors, outputOrder)}}`;
}

function writeTensor(t: Tensor, name: string): string {
  return writeNested(t.shape, formatterFor(t, name), 0, 0);
}

function writeRows(tensors: readonly Tensor[], names: readonly string[]): string {
  const batch = batchSizeOf(tensors, names);
  const fmts: ElementFormatter[] = tensors.map((t, k) => formatterFor(t, names[k]));
  const strides = tensors.map((t) => strideOf(t.shape, 1));
  const keys = names.map((n) => `${JSON.stringify(n)}:`);
  let s = '[';
  for (let i = 0; i < batch; i++) {
    s += i > 0 ? ',{' : '{';
    for (let k = 0; k < tensors.length; k++) {
      if (k > 0) s += ',';
      s += keys[k] + writeNested(tensors[k].shape, fmts[k], 1, i * strides[k]);
    }
    s += '}';
  }
  return `${s}]`;
}

function batchSizeOf(tensors: readonly Tensor[], names: readonly string[]): number {
  let batch = -1;
  for (let k = 0; k < tensors.length; k++) {
    const shape = tensors[k].shape;
    if (shape.length === 0) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Output '${names[k]}' is a scalar and cannot be written in row format; use the 'inputs' (columnar) format`,
      );
    }
    if (batch < 0) batch = shape[0];
    else if (shape[0] !== batch) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `Outputs do not share a batch size for row format: '${names[0]}' has ${batch}, '${names[k]}' has ${shape[0]}; use the 'inputs' (columnar) format`,
      );
    }
  }
  return batch;
}

function formatterFor(t: Tensor, name: string): ElementFormatter {
  return elementFormatter(t, { b64Strings: t.dtype === 'string' && name.endsWith('_bytes') });
}

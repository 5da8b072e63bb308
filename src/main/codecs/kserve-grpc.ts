import type { DType, NumericTypedArray } from '../../core/dtype.js';
import { dtypeSize } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import type { Tensor, TensorMap } from '../../core/tensor.js';
import { decodeBytesElements, encodeBytesElements } from './bytes-framing.js';
import { dtypeOfKServe, kserveDatatype } from './kserve-dtype.js';
import { bytesOf, fillNumeric, parseDims, typedArrayFromBytes } from './tensor-proto.js';

/**
 * KServe v2 gRPC tensors (`inference.ModelInferRequest` / `ModelInferResponse`) ↔ internal
 * Tensors, on the plain objects @grpc/proto-loader produces (`keepCase`, `longs: String`,
 * `bytes: Buffer`). Inputs come either as typed `contents` (exactly one value per element)
 * or, for every input at once, as `raw_input_contents` (little-endian bytes; BYTES elements
 * as a 4-byte little-endian length then the bytes).
 */

export interface InferTensorContentsObject {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: (string | number)[];
  uint_contents?: number[];
  uint64_contents?: (string | number)[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

export interface InferInputTensorObject {
  name?: string;
  datatype?: string;
  shape?: (string | number)[];
  contents?: InferTensorContentsObject | null;
}

export interface InferOutputTensorObject {
  name: string;
  datatype: string;
  shape: string[];
  contents?: InferTensorContentsObject;
}

export interface KserveDecodeOptions {
  /** Largest element count accepted for one tensor. */
  readonly maxElements: number;
}

const CONTENTS_FIELD: Record<DType, keyof InferTensorContentsObject | undefined> = {
  bool: 'bool_contents',
  uint8: 'uint_contents',
  uint16: 'uint_contents',
  uint32: 'uint_contents',
  uint64: 'uint64_contents',
  int8: 'int_contents',
  int16: 'int_contents',
  int32: 'int_contents',
  int64: 'int64_contents',
  float16: undefined,
  float32: 'fp32_contents',
  float64: 'fp64_contents',
  string: 'bytes_contents',
};

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}

/**
 * Decodes one input from its `contents`, or from `raw` when given. Throws ServingError
 * INVALID_ARGUMENT naming the tensor for an unknown datatype, a bad shape, raw bytes of the
 * wrong size, contents of the wrong length, FP16 sent as contents, or no data at all.
 */
export function decodeInferInput(
  input: InferInputTensorObject,
  raw: Uint8Array | undefined,
  opts: KserveDecodeOptions,
): Tensor {
  const what = `Input '${input.name ?? ''}'`;
  const dtype = input.datatype === undefined ? undefined : dtypeOfKServe(input.datatype);
  if (dtype === undefined) throw invalid(`${what} has an unsupported datatype: ${input.datatype ?? ''}`);
  const shape = parseDims(input.shape ?? [], what, opts.maxElements);
  const count = shape.reduce((a, b) => a * b, 1);
  if (raw !== undefined) {
    if (dtype === 'string') return { dtype, shape, data: decodeBytesElements(raw, count, what) };
    const expected = count * dtypeSize(dtype);
    if (raw.byteLength !== expected) {
      throw invalid(
        `${what}: raw contents have ${raw.byteLength} bytes, expected ${expected} (${count} × ${input.datatype})`,
      );
    }
    return { dtype, shape, data: typedArrayFromBytes(dtype, raw, count) };
  }
  const field = CONTENTS_FIELD[dtype];
  if (field === undefined)
    throw invalid(`${what}: ${input.datatype} data must be sent in raw_input_contents`);
  const values = (input.contents?.[field] ?? []) as (number | string | boolean)[] | Uint8Array[];
  if (values.length !== count) {
    const hint = input.contents ? '' : ' (the input has no contents and the request no raw_input_contents)';
    throw invalid(`${what} has ${values.length} values in ${field}, expected ${count}${hint}`);
  }
  if (dtype === 'string') return { dtype, shape, data: values as Uint8Array[] };
  return {
    dtype,
    shape,
    data: fillNumeric(dtype, values as (number | string | boolean)[], count, what, field),
  };
}

/**
 * Decodes every input of a ModelInferRequest into a TensorMap. Raw contents, when present,
 * must number exactly one per input, and then no input may carry `contents`.
 */
export function decodeInferInputs(
  inputs: readonly InferInputTensorObject[],
  rawContents: readonly Uint8Array[] | undefined,
  opts: KserveDecodeOptions,
): TensorMap {
  const raw = rawContents ?? [];
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw invalid(`Expected ${inputs.length} raw_input_contents (one per input), got ${raw.length}`);
  }
  const out: TensorMap = {};
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    const name = input.name ?? '';
    if (name === '') throw invalid(`Input ${i} has no name`);
    if (Object.hasOwn(out, name)) throw invalid(`Input '${name}' is given more than once`);
    if (raw.length > 0 && input.contents) {
      throw invalid(`Input '${name}': contents must not be given when the request uses raw_input_contents`);
    }
    out[name] = decodeInferInput(input, raw.length > 0 ? raw[i] : undefined, opts);
  }
  return out;
}

function contentsOf(t: Tensor): InferTensorContentsObject {
  // Callers never pass FP16, the one dtype without a contents field.
  const field = CONTENTS_FIELD[t.dtype]!;
  if (t.dtype === 'string') return { bytes_contents: t.data as Uint8Array[] };
  const data = t.data as NumericTypedArray;
  if (t.dtype === 'int64' || t.dtype === 'uint64')
    return { [field]: Array.from(data as BigInt64Array, String) };
  if (t.dtype === 'bool') return { bool_contents: Array.from(data as Uint8Array, (v) => v !== 0) };
  return { [field]: Array.from(data as Float32Array) };
}

/**
 * Encodes outputs in `names` order: in `raw_output_contents` (one entry per output, no copy
 * for numeric data) unless `typedContents`, then in each output's `contents`.
 */
export function encodeInferOutputs(
  outputs: TensorMap,
  names: readonly string[],
  typedContents: boolean,
): { outputs: InferOutputTensorObject[]; raw_output_contents: Uint8Array[] } {
  const result: InferOutputTensorObject[] = [];
  const raw: Uint8Array[] = [];
  for (const name of names) {
    const t = outputs[name];
    const meta: InferOutputTensorObject = {
      name,
      datatype: kserveDatatype(t.dtype),
      shape: t.shape.map(String),
    };
    if (typedContents && t.dtype !== 'float16') meta.contents = contentsOf(t);
    else
      raw.push(
        t.dtype === 'string'
          ? encodeBytesElements(t.data as Uint8Array[])
          : bytesOf(t.data as NumericTypedArray),
      );
    result.push(meta);
  }
  // Raw contents are all-or-nothing: if any output (FP16) had to go raw, send every one raw.
  if (raw.length > 0 && raw.length < names.length) return encodeInferOutputs(outputs, names, false);
  return { outputs: result, raw_output_contents: raw };
}

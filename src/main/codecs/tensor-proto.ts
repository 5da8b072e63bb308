import { type DType, dtypeSize, type NumericTypedArray, typedArrayCtor } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { dtypeOfTf, tfDataTypeName } from './tf-dtype.js';

/**
 * `tensorflow.TensorProto` ↔ the internal Tensor, on the plain objects @grpc/proto-loader
 * produces with `keepCase`, `longs: String`, `enums: String`, `bytes: Buffer`.
 *
 * Decoding takes `tensor_content` (raw little-endian bytes) when present, else the typed
 * `*_val` list of the dtype: exactly one value (which fills the shape) or exactly one value
 * per element. Numeric data decoded from `tensor_content` is a view over the message bytes
 * when aligned, copied once otherwise.
 */

/** TensorProto as proto-loader hands it over (and accepts it for encoding). */
export interface TensorProtoObject {
  dtype?: string | number;
  tensor_shape?: TensorShapeObject | null;
  tensor_content?: Uint8Array;
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  string_val?: Uint8Array[];
  int64_val?: (string | number)[];
  bool_val?: boolean[];
  half_val?: number[];
  uint32_val?: number[];
  uint64_val?: (string | number)[];
}

export interface TensorShapeObject {
  dim?: { size?: string | number; name?: string }[];
  unknown_rank?: boolean;
}

export interface TensorProtoDecodeOptions {
  /** Largest element count accepted for one tensor (guards single-value fills). */
  readonly maxElements: number;
}

export interface TensorProtoEncodeOptions {
  /** Write typed `*_val` lists instead of `tensor_content`. */
  readonly typedValues?: boolean;
}

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}

/**
 * Parses dims given as int64 strings or numbers: each a non-negative safe integer, the
 * product at most `maxElements`. `what` names the tensor in errors.
 */
export function parseDims(sizes: readonly (string | number)[], what: string, maxElements: number): number[] {
  const shape = new Array<number>(sizes.length);
  let n = 1;
  for (let i = 0; i < sizes.length; i++) {
    const d = Number(sizes[i]);
    if (!Number.isSafeInteger(d) || d < 0)
      throw invalid(`${what} has an invalid dimension ${i}: ${sizes[i]}`);
    shape[i] = d;
    n *= d;
  }
  if (n > maxElements) {
    throw invalid(`${what} has ${n} elements, more than the limit of ${maxElements}`);
  }
  return shape;
}

/**
 * A typed array of `count` elements over `bytes`: a view when the offset is aligned for the
 * element size, else one copy. The caller has checked `bytes.byteLength`.
 */
export function typedArrayFromBytes(
  dtype: Exclude<DType, 'string'>,
  bytes: Uint8Array,
  count: number,
): NumericTypedArray {
  const Ctor = typedArrayCtor(dtype);
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, count);
}

/** Bytes of a numeric tensor's data, without copying. */
export function bytesOf(data: NumericTypedArray): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

const INT_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

/**
 * Fills a numeric array of `count` elements from a typed value list: one value fills it,
 * else the list must hold exactly `count` values. Integers are range-checked.
 */
export function fillNumeric(
  dtype: Exclude<DType, 'string'>,
  values: readonly (number | string | boolean)[],
  count: number,
  what: string,
  field: string,
): NumericTypedArray {
  if (values.length !== count && !(values.length === 1 && count > 0)) {
    throw invalid(
      `${what} has ${values.length} values in ${field}, expected 1 or ${count} (the element count)`,
    );
  }
  const out = new (typedArrayCtor(dtype))(count);
  if (count === 0) return out;
  const one = values.length === 1;
  if (dtype === 'int64' || dtype === 'uint64') {
    const big = out as BigInt64Array | BigUint64Array;
    const convert = dtype === 'int64' ? BigInt.asIntN : BigInt.asUintN;
    for (let i = 0; i < count; i++) {
      const v = values[one ? 0 : i];
      let b: bigint;
      try {
        b = BigInt(v as string | number);
      } catch {
        throw invalid(`${what} has a non-integer value in ${field}: ${String(v)}`);
      }
      if (convert(64, b) !== b)
        throw invalid(`${what} has a value out of range for ${dtype} in ${field}: ${b}`);
      big[i] = b;
    }
    return out;
  }
  const nums = out as Exclude<NumericTypedArray, BigInt64Array | BigUint64Array>;
  const range = INT_RANGES[dtype];
  if (dtype === 'bool') {
    if (one) nums.fill(values[0] ? 1 : 0);
    else for (let i = 0; i < count; i++) nums[i] = values[i] ? 1 : 0;
    return out;
  }
  if (range !== undefined) {
    const [lo, hi] = range;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (!Number.isInteger(v) || v < lo || v > hi) {
        throw invalid(`${what} has a value out of range for ${dtype} in ${field}: ${v}`);
      }
    }
  }
  if (one) nums.fill(values[0] as number);
  else for (let i = 0; i < count; i++) nums[i] = values[i] as number;
  return out;
}

function typedField(dtype: Exclude<DType, 'string'>): keyof TensorProtoObject {
  switch (dtype) {
    case 'float32':
      return 'float_val';
    case 'float64':
      return 'double_val';
    case 'int64':
      return 'int64_val';
    case 'uint32':
      return 'uint32_val';
    case 'uint64':
      return 'uint64_val';
    case 'bool':
      return 'bool_val';
    case 'float16':
      return 'half_val';
    default:
      return 'int_val';
  }
}

/**
 * Decodes one request TensorProto. `name` is the input's name, used in every error.
 * Throws ServingError INVALID_ARGUMENT for an unknown or unsupported dtype, a missing,
 * negative or overflowing dim, an unknown rank, `tensor_content` whose length is not
 * elements × dtype size, or a typed list of the wrong length.
 */
export function decodeTensorProto(
  name: string,
  msg: TensorProtoObject,
  opts: TensorProtoDecodeOptions,
): Tensor {
  const what = `Input '${name}'`;
  const dtype = msg.dtype === undefined ? undefined : dtypeOfTf(msg.dtype);
  if (dtype === undefined)
    throw invalid(`${what} has an unsupported dtype: ${String(msg.dtype ?? 'DT_INVALID')}`);
  const shapeMsg = msg.tensor_shape;
  if (shapeMsg?.unknown_rank) throw invalid(`${what} has an unknown rank`);
  const shape = parseDims(
    (shapeMsg?.dim ?? []).map((d) => d.size ?? 0),
    what,
    opts.maxElements,
  );
  const count = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'string') {
    const vals = msg.string_val ?? [];
    if (vals.length === count) return { dtype, shape, data: vals };
    if (vals.length === 1 && count > 0)
      return { dtype, shape, data: new Array<Uint8Array>(count).fill(vals[0]) };
    throw invalid(
      `${what} has ${vals.length} values in string_val, expected 1 or ${count} (the element count)`,
    );
  }
  const content = msg.tensor_content;
  if (content !== undefined && content.byteLength > 0) {
    const expected = count * dtypeSize(dtype);
    if (content.byteLength !== expected) {
      throw invalid(
        `${what}: tensor_content has ${content.byteLength} bytes, expected ${expected} (${count} elements of ${tfDataTypeName(dtype)})`,
      );
    }
    return { dtype, shape, data: typedArrayFromBytes(dtype, content, count) };
  }
  const field = typedField(dtype);
  let values = (msg[field] ?? []) as (number | string | boolean)[];
  if (dtype === 'float16') values = (values as number[]).map((v) => v & 0xffff);
  return { dtype, shape, data: fillNumeric(dtype, values, count, what, field) };
}

/** Encodes one response tensor; `tensor_content` unless `typedValues` (strings always use string_val). */
export function encodeTensorProto(t: Tensor, opts: TensorProtoEncodeOptions = {}): TensorProtoObject {
  const msg: TensorProtoObject = {
    dtype: tfDataTypeName(t.dtype),
    tensor_shape: { dim: t.shape.map((d) => ({ size: String(d) })) },
  };
  if (t.dtype === 'string') {
    msg.string_val = t.data as Uint8Array[];
    return msg;
  }
  const data = t.data as NumericTypedArray;
  if (!opts.typedValues) {
    msg.tensor_content = bytesOf(data);
    return msg;
  }
  switch (t.dtype) {
    case 'int64':
    case 'uint64':
      msg[t.dtype === 'int64' ? 'int64_val' : 'uint64_val'] = Array.from(data as BigInt64Array, String);
      break;
    case 'bool':
      msg.bool_val = Array.from(data as Uint8Array, (v) => v !== 0);
      break;
    default:
      (msg as Record<string, unknown>)[typedField(t.dtype)] = Array.from(data as Float32Array);
  }
  return msg;
}

/**
 * The closed set of element types tensorserve moves between front ends, the scheduler and
 * the runtimes. Names follow ONNX/numpy spelling; the codecs map them to TF Serving's
 * `DT_*` and KServe v2's datatype names.
 */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string';

export type NumericTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'float16',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
  'string',
];

type TypedArrayCtor = {
  new (length: number): NumericTypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): NumericTypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CTORS: Record<Exclude<DType, 'string'>, TypedArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  // float16 travels as its raw 16-bit patterns.
  float16: Uint16Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  // bool is one byte per element, 0 or 1.
  bool: Uint8Array,
};

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

/** Bytes per element of a numeric dtype; 0 for `string` (variable length). */
export function dtypeSize(dtype: DType): number {
  return dtype === 'string' ? 0 : CTORS[dtype].BYTES_PER_ELEMENT;
}

/** The TypedArray constructor that holds elements of a numeric dtype. */
export function typedArrayCtor(dtype: Exclude<DType, 'string'>): TypedArrayCtor {
  return CTORS[dtype];
}

/** True when values of this dtype are bigint (64-bit integers). */
export function isBigIntDType(dtype: DType): dtype is 'int64' | 'uint64' {
  return dtype === 'int64' || dtype === 'uint64';
}

import type { DType } from '../../core/dtype.js';

/**
 * TensorFlow's `tensorflow.DataType` enum (types.proto) and its mapping to tensorserve's
 * DType. Shared by the TF Serving REST metadata encoder and the gRPC TensorProto codec.
 */
export const TF_DATA_TYPES = {
  DT_INVALID: 0,
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_UINT8: 4,
  DT_INT16: 5,
  DT_INT8: 6,
  DT_STRING: 7,
  DT_COMPLEX64: 8,
  DT_INT64: 9,
  DT_BOOL: 10,
  DT_QINT8: 11,
  DT_QUINT8: 12,
  DT_QINT32: 13,
  DT_BFLOAT16: 14,
  DT_QINT16: 15,
  DT_QUINT16: 16,
  DT_UINT16: 17,
  DT_COMPLEX128: 18,
  DT_HALF: 19,
  DT_RESOURCE: 20,
  DT_VARIANT: 21,
  DT_UINT32: 22,
  DT_UINT64: 23,
} as const;

export type TfDataTypeName = keyof typeof TF_DATA_TYPES;

const TF_NAME_OF_DTYPE: Record<DType, TfDataTypeName> = {
  float32: 'DT_FLOAT',
  float64: 'DT_DOUBLE',
  float16: 'DT_HALF',
  int8: 'DT_INT8',
  int16: 'DT_INT16',
  int32: 'DT_INT32',
  int64: 'DT_INT64',
  uint8: 'DT_UINT8',
  uint16: 'DT_UINT16',
  uint32: 'DT_UINT32',
  uint64: 'DT_UINT64',
  bool: 'DT_BOOL',
  string: 'DT_STRING',
};

const NAME_OF_NUMBER = new Map<number, TfDataTypeName>(
  Object.entries(TF_DATA_TYPES).map(([name, n]) => [n, name as TfDataTypeName]),
);
const DTYPE_OF_NAME = new Map<string, DType>(
  Object.entries(TF_NAME_OF_DTYPE).map(([dtype, name]) => [name, dtype as DType]),
);

/** `DT_FLOAT` etc. for a DType. */
export function tfDataTypeName(dtype: DType): TfDataTypeName {
  return TF_NAME_OF_DTYPE[dtype];
}

/** The `tensorflow.DataType` number for a DType. */
export function tfDataTypeNumber(dtype: DType): number {
  return TF_DATA_TYPES[TF_NAME_OF_DTYPE[dtype]];
}

/** The enum name for a `tensorflow.DataType` number; undefined when not in the enum. */
export function tfDataTypeNameOf(n: number): TfDataTypeName | undefined {
  return NAME_OF_NUMBER.get(n);
}

/**
 * The DType for a `DT_*` name or number; undefined for the types tensorserve does not
 * carry (bfloat16, complex, quantized, resource, variant) — callers answer UNIMPLEMENTED.
 */
export function dtypeOfTf(nameOrNumber: string | number): DType | undefined {
  const name = typeof nameOrNumber === 'number' ? NAME_OF_NUMBER.get(nameOrNumber) : nameOrNumber;
  return name === undefined ? undefined : DTYPE_OF_NAME.get(name);
}

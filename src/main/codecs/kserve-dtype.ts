import type { DType } from '../../core/dtype.js';

/**
 * KServe v2 / Open Inference Protocol datatype names and their DType. Shared by the v2
 * REST (JSON and binary) and gRPC codecs. BF16 is a valid v2 name that tensorserve does
 * not carry: callers answer UNIMPLEMENTED for it.
 */
export const KSERVE_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
  'BF16',
] as const;

export type KServeDatatype = (typeof KSERVE_DATATYPES)[number];

const DATATYPE_OF_DTYPE: Record<DType, KServeDatatype> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

const DTYPE_OF_DATATYPE = new Map<string, DType>(
  Object.entries(DATATYPE_OF_DTYPE).map(([dtype, name]) => [name, dtype as DType]),
);

/** The v2 datatype name of a DType. */
export function kserveDatatype(dtype: DType): KServeDatatype {
  return DATATYPE_OF_DTYPE[dtype];
}

/** The DType of a v2 datatype name; undefined for BF16 and for unknown names. */
export function dtypeOfKServe(datatype: string): DType | undefined {
  return DTYPE_OF_DATATYPE.get(datatype);
}

/** True for a name in the v2 datatype list (BF16 included). */
export function isKServeDatatype(name: unknown): name is KServeDatatype {
  return typeof name === 'string' && (KSERVE_DATATYPES as readonly string[]).includes(name);
}

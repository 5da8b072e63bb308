import type { Tensor } from '../../../src/core/tensor.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** One finite sample tensor per KServe v2 datatype, used by the round-trip tests. */
export const SAMPLE_TENSORS: Record<string, Tensor> = {
  BOOL: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
  UINT8: { dtype: 'uint8', shape: [2], data: new Uint8Array([0, 255]) },
  UINT16: { dtype: 'uint16', shape: [2], data: new Uint16Array([0, 65535]) },
  UINT32: { dtype: 'uint32', shape: [2], data: new Uint32Array([0, 4294967295]) },
  UINT64: { dtype: 'uint64', shape: [2], data: new BigUint64Array([0n, 2n ** 53n]) },
  INT8: { dtype: 'int8', shape: [2], data: new Int8Array([-128, 127]) },
  INT16: { dtype: 'int16', shape: [2], data: new Int16Array([-32768, 32767]) },
  INT32: { dtype: 'int32', shape: [1, 2], data: new Int32Array([-2147483648, 2147483647]) },
  INT64: { dtype: 'int64', shape: [2], data: new BigInt64Array([-(2n ** 53n), 42n]) },
  FP16: { dtype: 'float16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
  FP32: { dtype: 'float32', shape: [2, 2], data: new Float32Array([0.1, -1e-7, 3.4e38, 1 / 3]) },
  FP64: { dtype: 'float64', shape: [3], data: new Float64Array([0.1, -1e-300, Math.PI]) },
  BYTES: { dtype: 'string', shape: [3], data: [utf8('héllo'), utf8(''), utf8('x')] },
};

import { type DType, typedArrayCtor } from '../../../core/dtype.js';
import { ServingError } from '../../../core/errors.js';
import type { Signature, TensorSpec } from '../../../core/signature.js';
import { elementCount, type Tensor, type TensorMap, zeros } from '../../../core/tensor.js';
import type { WarmupData } from '../../config/warmup-options.js';

/**
 * Generated inputs for a declared warmup (and `make-warmup --from-signature`): one tensor
 * per signature input, shaped from the signature and the declared dims, filled with zeros
 * or random values.
 */
export interface GeneratedInputsRequest {
  readonly signature: Signature;
  /** Rows (batched signatures only). */
  readonly batchSize: number;
  readonly data: WarmupData;
  /** Per input: dims after the batch dim (batched), or the whole shape (unbatched). */
  readonly dims: Readonly<Record<string, readonly number[]>>;
  /** Names the warmup in errors, e.g. `declared warmup 0 of model 'm' version 1`. */
  readonly where: string;
}

/** Builds the inputs; INVALID_ARGUMENT (naming `where` and the input) when a shape cannot be made. */
export function generateInputs(req: GeneratedInputsRequest): TensorMap {
  for (const name of Object.keys(req.dims)) {
    if (!req.signature.inputs.some((s) => s.name === name))
      throw invalid(`${req.where}: dims name '${name}', which is not an input of the signature`);
  }
  const out: TensorMap = {};
  for (const spec of req.signature.inputs) {
    const shape = shapeOf(spec, req);
    out[spec.name] = req.data === 'zero' ? zeros(spec.dtype, shape) : randomTensor(spec.dtype, shape);
  }
  return out;
}

function shapeOf(spec: TensorSpec, req: GeneratedInputsRequest): number[] {
  const given = req.dims[spec.name];
  if (spec.shape === null) {
    if (given === undefined)
      throw invalid(`${req.where}: input '${spec.name}' has an unknown rank; give its dims`);
    return req.signature.batched ? [req.batchSize, ...given] : [...given];
  }
  const rest = req.signature.batched ? spec.shape.slice(1) : spec.shape;
  if (given !== undefined && given.length !== rest.length) {
    throw invalid(
      `${req.where}: dims of input '${spec.name}' has ${given.length} entries, the signature needs ${rest.length}`,
    );
  }
  const dims = rest.map((d, i) => given?.[i] ?? (d === -1 ? 1 : d));
  return req.signature.batched ? [req.batchSize, ...dims] : dims;
}

function randomTensor(dtype: DType, shape: readonly number[]): Tensor {
  const n = elementCount(shape);
  if (dtype === 'string') {
    const data = Array.from({ length: n }, () => Buffer.from(Math.random().toString(36).slice(2, 10)));
    return { dtype, shape: [...shape], data };
  }
  const data = new (typedArrayCtor(dtype))(n);
  for (let i = 0; i < n; i++) {
    const u = Math.random();
    if (data instanceof BigInt64Array || data instanceof BigUint64Array)
      data[i] = BigInt(Math.floor(u * 100));
    else if (dtype === 'float32' || dtype === 'float64') data[i] = u;
    // float16 travels as raw bits: 0x3c00 | 10 random mantissa bits is a value in [1, 2).
    else if (dtype === 'float16') data[i] = 0x3c00 | Math.floor(u * 1024);
    else if (dtype === 'bool') data[i] = u < 0.5 ? 0 : 1;
    else data[i] = Math.floor(u * 100);
  }
  return { dtype, shape: [...shape], data };
}

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message, { permanent: true });
}

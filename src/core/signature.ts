import type { DType } from './dtype.js';

/** One named tensor of a model's signature. `-1` marks an unknown (variable) dim. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  /** `null` when the rank itself is unknown. */
  readonly shape: readonly number[] | null;
}

/**
 * A model's serving signature, read from the model file by its runtime.
 * `batched` is true when every input and output has a variable leading dim, so
 * requests can be concatenated along dim 0 (the batch dim).
 */
export interface Signature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly batched: boolean;
  /** TF Serving signature method; `tensorflow/serving/predict` unless the model says otherwise. */
  readonly methodName: string;
}

export const DEFAULT_SIGNATURE_NAME = 'serving_default';
export const PREDICT_METHOD = 'tensorflow/serving/predict';

/** True when every spec has a leading dim of -1. */
export function isBatchedSignature(inputs: readonly TensorSpec[], outputs: readonly TensorSpec[]): boolean {
  const leadingVariable = (s: TensorSpec) => s.shape !== null && s.shape.length > 0 && s.shape[0] === -1;
  return inputs.length > 0 && inputs.every(leadingVariable) && outputs.every(leadingVariable);
}

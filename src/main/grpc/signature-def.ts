import type { ModelMetadataResult } from '../../core/model-metadata.js';
import type { TensorSpec } from '../../core/signature.js';
import { tfDataTypeName } from '../codecs/tf-dtype.js';

/** type_url of the Any in GetModelMetadataResponse.metadata["signature_def"]. */
export const SIGNATURE_DEF_MAP_TYPE_URL = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';

interface TensorInfoObject {
  name: string;
  dtype: string;
  tensor_shape: { dim: { size: string }[]; unknown_rank?: boolean };
}

function tensorInfoOf(spec: TensorSpec): TensorInfoObject {
  return {
    name: spec.name,
    dtype: tfDataTypeName(spec.dtype),
    tensor_shape:
      spec.shape === null
        ? { dim: [], unknown_rank: true }
        : { dim: spec.shape.map((d) => ({ size: String(d) })) },
  };
}

function tensorInfoMap(specs: readonly TensorSpec[]): Record<string, TensorInfoObject> {
  const out: Record<string, TensorInfoObject> = {};
  for (const s of specs) out[s.name] = tensorInfoOf(s);
  return out;
}

/**
 * The `signature_def` metadata entry as a google.protobuf.Any in proto-loader object form:
 * protobufjs's Any wrapper encodes an object carrying `@type` as that message (here a
 * `tensorflow.serving.SignatureDefMap`) and sets `type_url` to the `@type` string.
 */
export function signatureDefAny(meta: ModelMetadataResult): Record<string, unknown> {
  return {
    '@type': SIGNATURE_DEF_MAP_TYPE_URL,
    signature_def: Object.fromEntries(
      Object.entries({ ...meta.extraSignatures, [meta.signatureName]: meta.signature }).map(([name, sig]) => [
        name,
        {
          inputs: tensorInfoMap(sig.inputs),
          outputs: tensorInfoMap(sig.outputs),
          method_name: sig.methodName,
        },
      ]),
    ),
  };
}

import type { ModelMetadataResult } from '../../core/model-metadata.js';
import type { TensorSpec } from '../../core/signature.js';
import type { VersionStatus } from '../../core/version-status.js';
import { tfDataTypeName } from './tf-dtype.js';

/**
 * TF Serving REST bodies for model status and metadata, in proto3 JSON form: int64 fields
 * (versions, dim sizes) are strings, enums are names. Called by the REST front end with
 * what InferenceCore.modelStatus / modelMetadata return. Never throws.
 */

/** `GET /v1/models/{name}[/versions/{v}]`: versions in descending order. */
export function encodeStatusJson(statuses: readonly VersionStatus[]): string {
  const sorted = [...statuses].sort((a, b) => b.version - a.version);
  return JSON.stringify({
    model_version_status: sorted.map((s) => ({
      version: String(s.version),
      state: s.state,
      status: { error_code: s.errorCode, error_message: s.errorMessage },
    })),
  });
}

/** `GET /v1/models/{name}[/versions/{v}]/metadata`. */
export function encodeMetadataJson(meta: ModelMetadataResult): string {
  return JSON.stringify({
    model_spec: { name: meta.model, signature_name: '', version: String(meta.version) },
    metadata: {
      signature_def: {
        signature_def: signatureDefsJson(meta),
      },
    },
  });
}

/** The model's signature and any declared ones (`extraSignatures`), by name. */
function signatureDefsJson(meta: ModelMetadataResult): Record<string, object> {
  const all = { ...meta.extraSignatures, [meta.signatureName]: meta.signature };
  const out: Record<string, object> = {};
  for (const [name, sig] of Object.entries(all)) {
    out[name] = {
      inputs: tensorInfoMap(sig.inputs),
      outputs: tensorInfoMap(sig.outputs),
      method_name: sig.methodName,
    };
  }
  return out;
}

/** A `tensorflow.TensorInfo` in proto3 JSON. `name` is the graph tensor name, e.g. `x:0`. */
export function tensorInfoJson(spec: TensorSpec): object {
  return {
    dtype: tfDataTypeName(spec.dtype),
    tensor_shape:
      spec.shape === null
        ? { dim: [], unknown_rank: true }
        : { dim: spec.shape.map((d) => ({ size: String(d), name: '' })), unknown_rank: false },
    name: graphTensorName(spec.name),
  };
}

function tensorInfoMap(specs: readonly TensorSpec[]): Record<string, object> {
  const out: Record<string, object> = {};
  for (const spec of specs) out[spec.name] = tensorInfoJson(spec);
  return out;
}

/** TF graph tensor names carry an output index (`x:0`); names that already have one keep it. */
function graphTensorName(name: string): string {
  return /:\d+$/.test(name) ? name : `${name}:0`;
}

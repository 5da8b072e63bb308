import type { ModelMetadataResult } from '../../core/model-metadata.js';
import type { Platform } from '../../core/platform.js';
import type { TensorSpec } from '../../core/signature.js';
import { type KServeDatatype, kserveDatatype } from './kserve-dtype.js';

/**
 * KServe v2 model metadata, built once for both transports so REST `GET /v2/models/{m}` and
 * gRPC `ModelMetadata` always agree: Triton's platform names where one exists, and every
 * tensor as `{name, datatype, shape}` with -1 for variable dims.
 */

const PLATFORM_NAMES: Record<Platform, string> = {
  onnx: 'onnxruntime_onnx',
  tensorflow: 'tensorflow_savedmodel',
  // Triton has no TF.js backend; this is the name TF.js itself uses.
  tfjs: 'tensorflowjs',
};

/** The platform string KServe metadata reports for a runtime platform. */
export function kservePlatform(platform: Platform): string {
  return PLATFORM_NAMES[platform];
}

/** One tensor of KServe metadata. */
export interface KServeTensorMetadata {
  readonly name: string;
  readonly datatype: KServeDatatype;
  readonly shape: readonly number[];
}

/** A signature tensor as KServe metadata. An unknown rank is reported as `[-1]` (one variable dim). */
export function kserveTensorMetadata(spec: TensorSpec): KServeTensorMetadata {
  return { name: spec.name, datatype: kserveDatatype(spec.dtype), shape: spec.shape ?? [-1] };
}

/** The body of a KServe model metadata answer (REST JSON and gRPC ModelMetadataResponse). */
export interface KServeModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly KServeTensorMetadata[];
  readonly outputs: readonly KServeTensorMetadata[];
}

/** The KServe metadata of a model, from what InferenceCore.modelMetadata returned. */
export function kserveModelMetadata(meta: ModelMetadataResult): KServeModelMetadata {
  return {
    name: meta.model,
    versions: meta.availableVersions.map(String),
    platform: kservePlatform(meta.platform),
    inputs: meta.signature.inputs.map(kserveTensorMetadata),
    outputs: meta.signature.outputs.map(kserveTensorMetadata),
  };
}

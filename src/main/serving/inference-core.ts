import type { CallerIdentity } from '../../core/caller-identity.js';
import type { CancelSignal } from '../../core/cancel-signal.js';
import type { ServingError } from '../../core/errors.js';
import type { ModelMetadataResult } from '../../core/model-metadata.js';
import type { Signature } from '../../core/signature.js';
import type { TensorMap } from '../../core/tensor.js';
import type { VersionSelector } from '../../core/version-selector.js';
import type { VersionStatus } from '../../core/version-status.js';
import type { ModelConfig } from '../config/model-config.js';
import type { ServingPlan } from '../lifecycle/serving-plan.js';
import type { ArrivalPass } from '../tenancy/admission.js';

export interface PredictCall {
  readonly model: string;
  readonly selector: VersionSelector;
  /** Defaults to `serving_default`. */
  readonly signatureName?: string;
  /**
   * The request's tensors, or a decoder that builds them from the resolved version's
   * signature and serving plan (TF Serving JSON carries no dtypes, so its decoding needs the
   * signature; the plan says, e.g., whether numbers must be read exactly).
   */
  readonly inputs: TensorMap | ((signature: Signature, plan: ServingPlan) => TensorMap);
  /** Outputs to return; all when undefined or empty. */
  readonly outputFilter?: readonly string[];
  /** Absolute deadline in ms since the epoch (Date.now() scale). */
  readonly deadline?: number;
  /** Aborted when the client goes away; queued work is then dropped. */
  readonly signal?: CancelSignal;
  readonly caller?: CallerIdentity;
  /**
   * The tenant admission the front end already made when the request arrived (REST, before
   * reading the body): the core then takes no second rate token. Absent (gRPC, tenancy
   * off): the core admits the request itself.
   */
  readonly arrival?: ArrivalPass;
  /** Front end that received it, for metrics: `REST` | `GRPC` (TF Serving's entrypoint values); and the API, e.g. `predict`, `infer`. */
  readonly entrypoint?: string;
  readonly api?: string;
}

export interface PredictResult {
  readonly model: string;
  readonly version: number;
  readonly signatureName: string;
  readonly outputs: TensorMap;
}

/**
 * What every front end (TF Serving REST/gRPC, KServe v2 REST/gRPC) calls. Front ends only
 * decode, call one of these, and encode; all validation against the model's signature and
 * all errors (ServingError) come from here.
 */
export interface InferenceCore {
  predict(call: PredictCall): Promise<PredictResult>;
  /** Versions of a model (all, or the selected one), highest first. NOT_FOUND when unknown. */
  modelStatus(model: string, selector: VersionSelector | undefined, caller?: CallerIdentity): VersionStatus[];
  modelMetadata(model: string, selector: VersionSelector, caller?: CallerIdentity): ModelMetadataResult;
  /** Names of the models visible to the caller. */
  listModels(caller?: CallerIdentity): string[];
  /** Applies a new model list through the same path as a config file reload; resolves when settled. */
  reloadModels(models: readonly ModelConfig[]): Promise<void>;
  /**
   * After a reload has settled: why `model` is not served as its config asks (its base path
   * is unreadable, a wanted version failed to load, a label names a version that is not
   * AVAILABLE), or undefined when it is or is not in the model list. Never throws.
   */
  modelLoadError(model: string, caller?: CallerIdentity): ServingError | undefined;
  live(): boolean;
  /** True while every configured model has an AVAILABLE version, and not draining. */
  ready(): boolean;
  modelReady(model: string, selector: VersionSelector, caller?: CallerIdentity): boolean;
  /**
   * Health of one model by name (gRPC health's service = model name): true when it has an
   * AVAILABLE version and the server is not draining, false otherwise, undefined when the
   * caller knows no such model. Optional: front-end test doubles may leave it out.
   */
  modelServing?(model: string, caller?: CallerIdentity): boolean | undefined;
}

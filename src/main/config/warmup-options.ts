import { CONFIG_DEFAULTS } from './config-defaults.js';

/** What one declared warmup entry fills its inputs with. */
export type WarmupData = 'zero' | 'random';

/**
 * A warmup declared in the YAML config (Triton's `model_warmup`), for versions without a
 * TF Serving warmup file: for each batch size, `count` requests of generated inputs.
 */
export interface DeclaredWarmup {
  /** Rows per request (batched signatures; ignored for unbatched ones). */
  readonly batchSizes: readonly number[];
  readonly data: WarmupData;
  /** Requests per batch size. */
  readonly count: number;
  /**
   * Per input: the dims after the batch dim (batched signatures) or the whole shape
   * (unbatched ones). Unknown dims (-1) the signature leaves open and this does not give are 1.
   */
  readonly dims: Readonly<Record<string, readonly number[]>>;
}

/** A model's warmup settings (YAML `enable_model_warmup`, `num_request_iterations_for_warmup`, ...). */
export interface WarmupOptions {
  /** TF Serving's `enable_model_warmup`. */
  readonly enabled: boolean;
  /** Passes over the warmup file's records: TF Serving's `num_request_iterations` (0 there means 1). */
  readonly iterations: number;
  /** A warmup file with more records fails the load (TF Serving: 1000). */
  readonly maxRecords: number;
  /** Bound on one version's whole warmup; past it the load fails with DEADLINE_EXCEEDED (0 = none). */
  readonly timeoutMs: number;
  /** Used when the version has no warmup file. */
  readonly declared: readonly DeclaredWarmup[];
}

/** TF Serving's defaults (CONFIG_DEFAULTS.warmup): warmup on, one pass, at most 1000 records. */
export const DEFAULT_WARMUP: WarmupOptions = Object.freeze({
  ...CONFIG_DEFAULTS.warmup,
  declared: Object.freeze([]) as readonly DeclaredWarmup[],
});

/** Where the warmup file lives inside a version directory. */
export const WARMUP_FILE = 'assets.extra/tf_serving_warmup_requests';

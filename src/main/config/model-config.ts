import type { BatchingOptions } from '../../batching/batching-options.js';
import type { Platform } from '../../core/platform.js';
import type { ExampleSignature } from './example-signatures.js';
import type { WarmupOptions } from './warmup-options.js';

/** How a new version of a model replaces an old one (YAML `transition_policy`). */
export type TransitionPolicyName = 'availability-preserving' | 'resource-preserving';

/** Which versions of a model should be served (TF Serving's ServableVersionPolicy). */
export type VersionPolicy =
  | { readonly kind: 'latest'; readonly numVersions: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'specific'; readonly versions: readonly number[] };

/**
 * How a model's versions stay in memory (issue 12). Absent: pinned (loaded at start, never
 * evicted), the behaviour of every model before on-demand residency existed.
 */
export interface ResidencyConfig {
  /** Registered at start but loaded by its first request; evictable under memory budgets. */
  readonly loadOnDemand: boolean;
  /** An on-demand version unused this long is unloaded; 0 = never. */
  readonly idleUnloadSeconds: number;
  /** Longest a request waits for a cold load (its own deadline may be shorter). */
  readonly coldStartTimeoutMs: number;
}

/** One served model, validated and frozen. */
export interface ModelConfig {
  readonly name: string;
  /** Absolute path of the directory holding numbered version directories. */
  readonly basePath: string;
  /** Detected from the version directory's files when absent. */
  readonly platform: Platform | undefined;
  readonly versionPolicy: VersionPolicy;
  /** label → version. */
  readonly versionLabels: Readonly<Record<string, number>>;
  /** Device pool the model's versions are placed on, e.g. `cpu`, `cuda:0`. */
  readonly device: string;
  /** Workers of the device pool that hold a session of each version (0 = all). */
  readonly instances: number;
  readonly batching: BatchingOptions;
  /** Load attempts after the first failure (TF Serving's max_num_load_retries). */
  readonly loadRetries: number;
  readonly loadRetryIntervalMs: number;
  /** Owning tenant, or undefined for a shared/open model. */
  readonly tenant: string | undefined;
  /** On-demand residency; undefined = pinned (see ResidencyConfig). */
  readonly residency?: ResidencyConfig;
  /** Declared tf.Example signatures (Classify/Regress) by name; none when absent. */
  readonly signatures?: Readonly<Record<string, ExampleSignature>>;
  /**
   * How a new version replaces an old one: `availability-preserving` (load, then unload;
   * the default) or `resource-preserving` (unload, then load; a serving gap). Undefined: the
   * manager's default.
   */
  readonly transitionPolicy?: TransitionPolicyName;
  /** Warmup of each version before it becomes AVAILABLE; undefined: DEFAULT_WARMUP. */
  readonly warmup?: WarmupOptions;
}

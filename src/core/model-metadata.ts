import type { Platform } from './platform.js';
import type { Signature } from './signature.js';

/** What a metadata request answers for one resolved model version (every front end encodes it). */
export interface ModelMetadataResult {
  readonly model: string;
  readonly version: number;
  readonly platform: Platform;
  readonly signatureName: string;
  readonly signature: Signature;
  /** Signatures besides `signatureName` (declared tf.Example ones), by name; none when absent. */
  readonly extraSignatures?: Readonly<Record<string, Signature>>;
  /** All AVAILABLE versions, highest first. */
  readonly availableVersions: readonly number[];
}

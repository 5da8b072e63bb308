import { ServingError } from '../../core/errors.js';
import type { VersionSelector } from '../../core/version-selector.js';

/** `tensorflow.serving.ModelSpec` as proto-loader hands it over. */
export interface ModelSpecObject {
  name?: string;
  version?: { value?: string | number } | null;
  version_label?: string;
  version_choice?: 'version' | 'version_label';
  signature_name?: string;
}

/** A request's model name, or INVALID_ARGUMENT when the spec or its name is missing. */
export function modelNameOf(spec: ModelSpecObject | null | undefined): string {
  if (!spec) throw new ServingError('INVALID_ARGUMENT', 'Missing ModelSpec');
  if (!spec.name) throw new ServingError('INVALID_ARGUMENT', 'Missing model name in ModelSpec');
  return spec.name;
}

/**
 * The version a ModelSpec selects: its `version`, its `version_label`, or, when neither is
 * set, `undefined` (callers choose latest or "all versions").
 */
export function selectorOf(spec: ModelSpecObject | null | undefined): VersionSelector | undefined {
  if (!spec) return undefined;
  if (spec.version_choice !== 'version_label' && spec.version) {
    const raw = spec.version.value ?? 0;
    const version = Number(raw);
    if (!Number.isSafeInteger(version))
      throw new ServingError('INVALID_ARGUMENT', `Invalid model version: ${raw}`);
    return { kind: 'version', version };
  }
  if (spec.version_label) return { kind: 'label', label: spec.version_label };
  return undefined;
}

/** The ModelSpec of a response: name, the version that served it, and the signature name. */
export function responseModelSpec(name: string, version: number, signatureName: string): ModelSpecObject {
  return { name, version: { value: String(version) }, signature_name: signatureName };
}

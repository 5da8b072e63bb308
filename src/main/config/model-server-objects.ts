import path from 'node:path';
import { DEFAULT_BATCHING } from '../../batching/batching-options.js';
import { ServingError } from '../../core/errors.js';
import { PLATFORMS, type Platform } from '../../core/platform.js';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import type { ModelConfig, VersionPolicy } from './model-config.js';

/** `tensorflow.serving.ModelServerConfig` as proto-loader hands it over (the subset we read). */
export interface ModelServerConfigObject {
  config?: 'model_config_list' | 'custom_model_config';
  model_config_list?: { config?: ModelConfigObject[] } | null;
  custom_model_config?: unknown;
}

export interface ModelConfigObject {
  name?: string;
  base_path?: string;
  model_platform?: string;
  model_version_policy?: {
    policy_choice?: 'latest' | 'all' | 'specific';
    latest?: { num_versions?: number } | null;
    all?: object | null;
    specific?: { versions?: (string | number)[] } | null;
  } | null;
  version_labels?: Record<string, string | number>;
}

/** What a model takes that ModelServerConfig cannot express: placement, batching, retries, tenant. */
export type ModelSettings = Pick<
  ModelConfig,
  | 'signatures'
  | 'device'
  | 'instances'
  | 'batching'
  | 'loadRetries'
  | 'loadRetryIntervalMs'
  | 'tenant'
  | 'warmup'
  | 'transitionPolicy'
  | 'residency'
>;

/** Settings used when the server gives none: CPU, default batching, TF Serving's retry defaults. */
export const FALLBACK_MODEL_SETTINGS: ModelSettings = Object.freeze({
  device: CONFIG_DEFAULTS.model.device,
  instances: CONFIG_DEFAULTS.model.instances,
  batching: DEFAULT_BATCHING,
  loadRetries: CONFIG_DEFAULTS.model.loadRetries,
  loadRetryIntervalMs: CONFIG_DEFAULTS.model.loadRetryIntervalMs,
  tenant: undefined,
});

function invalid(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}

function versionNumber(v: string | number, where: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${where}: invalid version ${v}`);
  return n;
}

function policyOf(p: ModelConfigObject['model_version_policy'], where: string): VersionPolicy {
  const choice =
    p?.policy_choice ?? (p?.specific ? 'specific' : p?.all ? 'all' : p?.latest ? 'latest' : undefined);
  if (choice === 'all') return { kind: 'all' };
  if (choice === 'specific') {
    const versions = (p?.specific?.versions ?? []).map((v) => versionNumber(v, where));
    if (versions.length === 0) throw invalid(`${where}: model_version_policy.specific lists no versions`);
    return { kind: 'specific', versions: [...new Set(versions)].sort((a, b) => a - b) };
  }
  // proto3 cannot tell an unset num_versions from 0; TF Serving's default is 1.
  return { kind: 'latest', numVersions: Math.max(1, p?.latest?.num_versions ?? 1) };
}

/**
 * Converts a ReloadConfigRequest's ModelServerConfig into the model list the manager
 * realizes (models absent from it are unloaded). `settings(name)` supplies what the proto
 * cannot say, so a caller can keep a known model's batching and device; relative base
 * paths resolve against `baseDir`.
 *
 * Throws ServingError: INVALID_ARGUMENT for a missing name or base_path, a duplicate
 * name, an unknown platform, a bad version policy, or a label pointing outside a specific
 * policy; UNIMPLEMENTED for custom_model_config.
 */
export function modelServerConfigToModels(
  msg: ModelServerConfigObject | null | undefined,
  settings: (name: string) => ModelSettings = () => FALLBACK_MODEL_SETTINGS,
  baseDir: string = process.cwd(),
): ModelConfig[] {
  if (msg?.config === 'custom_model_config' || msg?.custom_model_config) {
    throw new ServingError('UNIMPLEMENTED', 'custom_model_config is not supported; send a model_config_list');
  }
  const list = msg?.model_config_list?.config ?? [];
  const seen = new Set<string>();
  return list.map((c, i) => {
    const where = `model_config_list.config[${i}]`;
    if (!c.name) throw invalid(`${where}: missing name`);
    if (seen.has(c.name)) throw invalid(`${where}: model name '${c.name}' is used more than once`);
    seen.add(c.name);
    if (!c.base_path) throw invalid(`${where} ('${c.name}'): missing base_path`);
    // TF Serving clients write "tensorflow" whatever the files are: detect from the files then.
    const platformName = c.model_platform === 'tensorflow' ? '' : (c.model_platform ?? '');
    if (platformName !== '' && !PLATFORMS.includes(platformName as Platform)) {
      throw invalid(
        `${where} ('${c.name}'): unknown model_platform '${platformName}' (expected ${PLATFORMS.join(', ')})`,
      );
    }
    const versionPolicy = policyOf(c.model_version_policy, `${where} ('${c.name}')`);
    const versionLabels: Record<string, number> = {};
    for (const [label, v] of Object.entries(c.version_labels ?? {})) {
      const version = versionNumber(v, `${where} ('${c.name}') label '${label}'`);
      if (versionPolicy.kind === 'specific' && !versionPolicy.versions.includes(version)) {
        throw invalid(
          `${where} ('${c.name}'): label '${label}' points at version ${version}, not in the specific policy`,
        );
      }
      versionLabels[label] = version;
    }
    const s = settings(c.name);
    return Object.freeze({
      name: c.name,
      basePath: path.resolve(baseDir, c.base_path),
      platform: platformName === '' ? undefined : (platformName as Platform),
      versionPolicy: Object.freeze(versionPolicy),
      versionLabels: Object.freeze(versionLabels),
      device: s.device,
      instances: s.instances,
      batching: s.batching,
      loadRetries: s.loadRetries,
      loadRetryIntervalMs: s.loadRetryIntervalMs,
      residency: s.residency,
      tenant: s.tenant,
      ...(s.signatures === undefined ? {} : { signatures: s.signatures }),
      ...(s.warmup === undefined ? {} : { warmup: s.warmup }),
      ...(s.transitionPolicy === undefined ? {} : { transitionPolicy: s.transitionPolicy }),
    });
  });
}

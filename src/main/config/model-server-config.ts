import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ServingError } from '../../core/errors.js';
import { ConfigError } from './config-error.js';
import { deepFreeze } from './deep-freeze.js';
import { buildModel } from './load-config.js';
import type { ModelConfig } from './model-config.js';
import {
  type ModelConfigObject,
  type ModelServerConfigObject,
  type ModelSettings,
  modelServerConfigToModels,
} from './model-server-objects.js';
import type { ModelDefaults } from './raw-config.js';
import { parseTextProto, type TextMessage, type TextValue } from './text-proto.js';

/**
 * Settings for models named in a TF Serving model list, which cannot say device, batching
 * or retries: the YAML `model_defaults`, with the built-in defaults under them.
 */
export function settingsFromDefaults(defaults: ModelDefaults): (name: string) => ModelSettings {
  const problems: string[] = [];
  const m = buildModel({ name: 'defaults', base_path: '.' }, 0, defaults, '/', problems);
  if (problems.length > 0) throw new ConfigError('model_defaults', problems);
  const settings: ModelSettings = {
    device: m.device,
    instances: m.instances,
    batching: m.batching,
    loadRetries: m.loadRetries,
    loadRetryIntervalMs: m.loadRetryIntervalMs,
    tenant: undefined,
    residency: m.residency,
    warmup: m.warmup,
    transitionPolicy: m.transitionPolicy,
  };
  return () => settings;
}

function last(msg: TextMessage, field: string): TextValue | undefined {
  const v = msg[field];
  return v === undefined ? undefined : v[v.length - 1];
}

function sub(msg: TextMessage, field: string): TextMessage | undefined {
  const v = last(msg, field);
  return typeof v === 'object' ? v : undefined;
}

function text(msg: TextMessage, field: string, where: string): string | undefined {
  const v = last(msg, field);
  if (v !== undefined && typeof v !== 'string')
    throw new ServingError('INVALID_ARGUMENT', `${where}.${field} must be a string`);
  return v;
}

function versions(values: TextValue[] | undefined, where: string): number[] {
  return (values ?? []).map((v) => {
    if (typeof v !== 'number') throw new ServingError('INVALID_ARGUMENT', `${where} must be integers`);
    return v;
  });
}

function modelConfigOf(c: TextMessage, where: string): ModelConfigObject {
  const p = sub(c, 'model_version_policy');
  const labels: Record<string, number> = {};
  for (const entry of c.version_labels ?? []) {
    if (typeof entry !== 'object')
      throw new ServingError('INVALID_ARGUMENT', `${where}.version_labels must be messages`);
    labels[text(entry, 'key', `${where}.version_labels`) ?? ''] = versions(
      entry.value,
      `${where}.version_labels.value`,
    )[0];
  }
  return {
    name: text(c, 'name', where),
    base_path: text(c, 'base_path', where),
    model_platform: text(c, 'model_platform', where),
    model_version_policy: p && {
      latest: p.latest && {
        num_versions: versions(sub(p, 'latest')?.num_versions, `${where}.latest.num_versions`)[0],
      },
      all: p.all && {},
      specific: p.specific && {
        versions: versions(sub(p, 'specific')?.versions, `${where}.specific.versions`),
      },
    },
    version_labels: labels,
  };
}

/** A parsed text-format ModelServerConfig in the shape proto-loader gives the reload RPC. */
export function modelServerConfigFromText(msg: TextMessage): ModelServerConfigObject {
  for (const key of Object.keys(msg)) {
    if (key !== 'model_config_list') {
      throw new ServingError('INVALID_ARGUMENT', `'${key}' is not supported (only model_config_list)`);
    }
  }
  const list = sub(msg, 'model_config_list');
  return {
    model_config_list: {
      config: (list?.config ?? []).map((c, i) => {
        const where = `model_config_list.config[${i}]`;
        if (typeof c !== 'object') throw new ServingError('INVALID_ARGUMENT', `${where} must be a message`);
        return modelConfigOf(c, where);
      }),
    },
  };
}

/**
 * Loads TF Serving's `--model_config_file` (text format) into validated ModelConfigs, through
 * the same conversion as HandleReloadConfigRequest. Relative base paths resolve against the
 * file's directory. Throws ConfigError naming the problem.
 */
export function loadModelServerConfigFile(file: string, defaults: ModelDefaults): ModelConfig[] {
  const absolute = path.resolve(file);
  try {
    const msg = modelServerConfigFromText(parseTextProto(readFileSync(absolute, 'utf8')));
    return deepFreeze(modelServerConfigToModels(msg, settingsFromDefaults(defaults), path.dirname(absolute)));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(absolute, [(err as Error).message]);
  }
}

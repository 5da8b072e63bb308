import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { buildModel, deepFreeze, type ModelDefaults, type RawModel } from './load-config.js';
import type { ModelConfig } from './model-config.js';
import { parseTextProto, type TextMessage, type TextValue } from './text-proto.js';

/**
 * One model of a TF Serving `ModelServerConfig`, whatever it was read from (the text
 * config file or a HandleReloadConfigRequest): the fields tensorserve honours.
 */
export interface ModelServerConfigEntry {
  readonly name: string;
  readonly basePath: string;
  /** TF Serving's `model_platform`; `tensorflow` (and empty) mean "detect from the files". */
  readonly modelPlatform: string;
  readonly policy: RawModel['version_policy'];
  readonly labels: Record<string, number>;
}

/** TF Serving platform names → tensorserve platforms; `tensorflow` detects from the files. */
function platformOf(p: string, where: string, problems: string[]): RawModel['platform'] {
  if (p === '' || p === 'tensorflow') return undefined;
  if (p === 'onnx' || p === 'tfjs') return p;
  problems.push(`${where}.model_platform '${p}' is not supported (use tensorflow, onnx or tfjs)`);
  return undefined;
}

/** Converts entries into validated ModelConfigs, taking defaults from the YAML config. */
export function entriesToModels(
  entries: readonly ModelServerConfigEntry[],
  defaults: ModelDefaults,
  baseDir: string,
  source: string,
): ModelConfig[] {
  const problems: string[] = [];
  const models = entries.map((e, i) => {
    const where = `model_config_list.config[${i}]`;
    if (!e.name) problems.push(`${where}.name must be set`);
    if (!e.basePath) problems.push(`${where}.base_path must be set`);
    const raw: RawModel = {
      name: e.name,
      base_path: e.basePath,
      platform: platformOf(e.modelPlatform, where, problems),
      version_policy: e.policy,
      version_labels: e.labels,
    };
    return buildModel(raw, i, defaults, baseDir, problems);
  });
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name)) problems.push(`model_config_list has two models named '${m.name}'`);
    names.add(m.name);
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze(models);
}

function one(msg: TextMessage, field: string): TextValue | undefined {
  const v = msg[field];
  return v === undefined ? undefined : v[v.length - 1];
}

function str(msg: TextMessage, field: string, where: string, problems: string[]): string {
  const v = one(msg, field);
  if (v === undefined) return '';
  if (typeof v !== 'string') problems.push(`${where}.${field} must be a string`);
  return String(v);
}

function sub(msg: TextMessage, field: string): TextMessage | undefined {
  const v = one(msg, field);
  return typeof v === 'object' ? v : undefined;
}

function nums(values: TextValue[] | undefined, where: string, problems: string[]): number[] {
  return (values ?? []).map((v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      problems.push(`${where} must be non-negative integers`);
    return Number(v);
  });
}

/** Reads the entries of a parsed text-format ModelServerConfig. */
export function entriesFromText(msg: TextMessage, problems: string[]): ModelServerConfigEntry[] {
  for (const key of Object.keys(msg)) {
    if (key !== 'model_config_list') problems.push(`'${key}' is not supported (only model_config_list)`);
  }
  const list = sub(msg, 'model_config_list');
  if (!list) return [];
  return (list.config ?? []).map((c, i) => {
    const where = `model_config_list.config[${i}]`;
    if (typeof c !== 'object') {
      problems.push(`${where} must be a message`);
      return { name: '', basePath: '', modelPlatform: '', policy: undefined, labels: {} };
    }
    const p = sub(c, 'model_version_policy');
    let policy: RawModel['version_policy'];
    if (p?.latest)
      policy = {
        latest: {
          num_versions:
            nums(
              sub(p, 'latest')?.num_versions,
              `${where}.model_version_policy.latest.num_versions`,
              problems,
            )[0] ?? 1,
        },
      };
    else if (p?.all) policy = { all: {} };
    else if (p?.specific)
      policy = {
        specific: {
          versions: nums(
            sub(p, 'specific')?.versions,
            `${where}.model_version_policy.specific.versions`,
            problems,
          ),
        },
      };
    const labels: Record<string, number> = {};
    for (const entry of c.version_labels ?? []) {
      if (typeof entry !== 'object') continue;
      const key = str(entry, 'key', `${where}.version_labels`, problems);
      labels[key] = nums(entry.value, `${where}.version_labels.value`, problems)[0];
    }
    return {
      name: str(c, 'name', where, problems),
      basePath: str(c, 'base_path', where, problems),
      modelPlatform: str(c, 'model_platform', where, problems),
      policy,
      labels,
    };
  });
}

/** Loads TF Serving's `--model_config_file` (text format) into validated ModelConfigs. */
export function loadModelServerConfigFile(file: string, defaults: ModelDefaults): ModelConfig[] {
  const absolute = path.resolve(file);
  let msg: TextMessage;
  try {
    msg = parseTextProto(readFileSync(absolute, 'utf8'));
  } catch (err) {
    throw new ConfigError(absolute, [(err as Error).message]);
  }
  const problems: string[] = [];
  const entries = entriesFromText(msg, problems);
  if (problems.length > 0) throw new ConfigError(absolute, problems);
  return entriesToModels(entries, defaults, path.dirname(absolute), absolute);
}

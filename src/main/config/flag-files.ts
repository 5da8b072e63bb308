import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { parseTextProto, type TextMessage, type TextValue } from './text-proto.js';

/**
 * TF Serving's text-format files named by flags (`--batching_parameters_file`,
 * `--ssl_config_file`, `--monitoring_config_file`), each turned into the YAML section it
 * stands for. Every function throws ConfigError naming the file and the field.
 */

/** TF Serving's BatchingParameters defaults (what a field left out of the file means). */
export const TF_BATCHING_DEFAULTS = {
  max_batch_size: 1000,
  batch_timeout_micros: 0,
  max_enqueued_batches: 10,
} as const;

/** Wrapped (`{ value: N }`) fields of BatchingParameters, and the plain ones. */
const WRAPPED_BATCHING = [
  'max_batch_size',
  'batch_timeout_micros',
  'max_enqueued_batches',
  'num_batch_threads',
  'enable_large_batch_splitting',
  'max_execution_batch_size',
];
/** Fields tensorserve accepts but ignores (a warning each). */
const IGNORED_BATCHING: Readonly<Record<string, string>> = {
  thread_pool_name: 'tensorserve has one scheduler for all models',
};

function readText(file: string): TextMessage {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot be read: ${(err as Error).message}`]);
  }
  try {
    return parseTextProto(text);
  } catch (err) {
    throw new ConfigError(file, [(err as Error).message]);
  }
}

function lastOf(msg: TextMessage, field: string): TextValue | undefined {
  const v = msg[field];
  return v === undefined ? undefined : v[v.length - 1];
}

function scalar(file: string, msg: TextMessage, field: string, wrapped: boolean): TextValue | undefined {
  const v = lastOf(msg, field);
  if (v === undefined || !wrapped) {
    if (typeof v === 'object') throw new ConfigError(file, [`${field} must be a plain value`]);
    return v;
  }
  if (typeof v !== 'object')
    throw new ConfigError(file, [`${field} must be a message: ${field} { value: ... }`]);
  const inner = lastOf(v, 'value');
  if (inner === undefined || typeof inner === 'object')
    throw new ConfigError(file, [`${field} must be { value: ... }`]);
  return inner;
}

function integer(file: string, field: string, v: TextValue): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new ConfigError(file, [`${field} must be a non-negative integer`]);
  return v;
}

function boolean(file: string, field: string, v: TextValue): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(file, [`${field} must be true or false`]);
  return v;
}

/**
 * `--batching_parameters_file` → a YAML `batching` section, fields left out taking TF
 * Serving's defaults. `warn` receives one line per field tensorserve ignores.
 */
export function readBatchingParameters(file: string, warn: (line: string) => void): Record<string, unknown> {
  const msg = readText(file);
  const out: Record<string, unknown> = { ...TF_BATCHING_DEFAULTS };
  for (const field of Object.keys(msg)) {
    if (field in IGNORED_BATCHING) {
      warn(`${file}: ${field} has no effect: ${IGNORED_BATCHING[field]}`);
    } else if (field === 'allowed_batch_sizes') {
      out.allowed_batch_sizes = (msg[field] ?? []).map((v) => integer(file, field, v));
    } else if (field === 'pad_variable_length_inputs') {
      out[field] = boolean(file, field, scalar(file, msg, field, false) as TextValue);
    } else if (WRAPPED_BATCHING.includes(field)) {
      const v = scalar(file, msg, field, true) as TextValue;
      out[field] =
        field === 'enable_large_batch_splitting' ? boolean(file, field, v) : integer(file, field, v);
    } else {
      throw new ConfigError(file, [`BatchingParameters field '${field}' is not supported`]);
    }
  }
  return out;
}

/** `--ssl_config_file` (SSLConfig: server_key, server_cert, custom_ca, client_verify; PEM inline). */
export interface SslConfig {
  readonly serverKey: string;
  readonly serverCert: string;
  readonly customCa: string | undefined;
  readonly clientVerify: boolean;
}

export function readSslConfig(file: string): SslConfig {
  const msg = readText(file);
  const fields = ['server_key', 'server_cert', 'custom_ca', 'client_verify'];
  for (const field of Object.keys(msg)) {
    if (!fields.includes(field)) throw new ConfigError(file, [`SSLConfig field '${field}' is unknown`]);
  }
  const text = (field: string): string | undefined => {
    const v = scalar(file, msg, field, false);
    if (v !== undefined && typeof v !== 'string') throw new ConfigError(file, [`${field} must be a string`]);
    return v === '' ? undefined : v;
  };
  const serverKey = text('server_key');
  const serverCert = text('server_cert');
  if (serverKey === undefined || serverCert === undefined)
    throw new ConfigError(file, ['server_key and server_cert are required (PEM text)']);
  const verify = scalar(file, msg, 'client_verify', false);
  const clientVerify = verify === undefined ? false : boolean(file, 'client_verify', verify);
  const customCa = text('custom_ca');
  if (clientVerify && customCa === undefined)
    throw new ConfigError(file, ['client_verify needs custom_ca (the CA that signs client certificates)']);
  return { serverKey, serverCert, customCa, clientVerify };
}

/** `--monitoring_config_file` (MonitoringConfig.prometheus_config) → YAML `server.prometheus`. */
export function readMonitoringConfig(file: string): { enable: boolean; path?: string } {
  const msg = readText(file);
  for (const field of Object.keys(msg)) {
    if (field !== 'prometheus_config')
      throw new ConfigError(file, [`MonitoringConfig field '${field}' is not supported`]);
  }
  const p = lastOf(msg, 'prometheus_config');
  if (p === undefined) return { enable: false };
  if (typeof p !== 'object') throw new ConfigError(file, ['prometheus_config must be a message']);
  for (const field of Object.keys(p)) {
    if (field !== 'enable' && field !== 'path')
      throw new ConfigError(file, [`prometheus_config field '${field}' is not supported`]);
  }
  const enable = scalar(file, p, 'enable', false);
  const where = scalar(file, p, 'path', false);
  if (where !== undefined && (typeof where !== 'string' || !where.startsWith('/')))
    throw new ConfigError(file, ['prometheus_config.path must be a string starting with /']);
  return {
    enable: enable === undefined ? false : boolean(file, 'prometheus_config.enable', enable),
    ...(where === undefined || where === '' ? {} : { path: where }),
  };
}

/** Resolves a flag's file path against the working directory. */
export function flagFile(cwd: string, file: string): string {
  return path.resolve(cwd, file);
}

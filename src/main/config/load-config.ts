import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { BatchingOptions } from '../../batching/batching-options.js';
import { batchingProblems } from '../../batching/batching-validation.js';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import { ConfigError, formatAjvError } from './config-error.js';
import { buildConnections, resolveShutdownDelay } from './connection-config.js';
import { deepFreeze } from './deep-freeze.js';
import { buildExampleSignatures } from './example-signatures.js';
import type { ModelConfig, ResidencyConfig, VersionPolicy } from './model-config.js';
import { checkModelTenancy } from './model-names.js';
import type { ModelDefaults, RawBatching, RawConfig, RawModel, RawPolicy } from './raw-config.js';
import { serverConfigSchema } from './schema.js';
import type { DeviceConfig, ServerConfig } from './server-config.js';
import { resolveTenancy, TENANCY_OFF, type TenancyConfig } from './tenant-config.js';
import type { WarmupOptions } from './warmup-options.js';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateSchema = ajv.compile<RawConfig>(serverConfigSchema);

/** Defaults a model takes when neither it nor `model_defaults` says otherwise. */
const MODEL_DEFAULTS = CONFIG_DEFAULTS.model;

/** Reads, validates and freezes a YAML config file. Throws ConfigError naming every problem. */
export function loadConfigFile(
  file: string,
  overrides: (raw: Record<string, unknown>) => void = () => {},
): ServerConfig {
  const absolute = path.resolve(file);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(absolute, 'utf8'));
  } catch (err) {
    throw new ConfigError(absolute, [`cannot be read as YAML: ${(err as Error).message}`]);
  }
  const obj = (raw ?? {}) as Record<string, unknown>;
  overrides(obj);
  return buildConfig(obj, absolute, path.dirname(absolute));
}

/**
 * Validates a raw config object (the parsed YAML) and returns the frozen ServerConfig.
 * `source` names it in errors; relative paths resolve against `baseDir`.
 */
export function buildConfig(raw: unknown, source: string, baseDir: string): ServerConfig {
  const copy: unknown = structuredClone(raw ?? {});
  if (!validateSchema(copy)) {
    throw new ConfigError(source, (validateSchema.errors ?? []).map(formatAjvError));
  }
  const problems: string[] = [];
  const devices = buildDevices(copy);
  const models = copy.models.map((m, i) => buildModel(m, i, copy.model_defaults, baseDir, problems));
  checkModels(models, devices, problems);
  const tenancy = buildTenancy(copy, source, baseDir, problems);
  if (tenancy !== undefined) problems.push(...checkModelTenancy(models, tenancy));
  const s = copy.server;
  const shutdownDelayMs = resolveShutdownDelay(s.shutdown_delay_ms, s.drain_timeout_ms, problems);
  const connections = buildConnections(s.connections, s.grpc, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  const config: ServerConfig = {
    host: s.host,
    restPort: s.rest_api_port,
    grpcPort: s.grpc_port,
    pollIntervalMs: Math.round(s.file_system_poll_wait_seconds * 1000),
    defaultRequestTimeoutMs: s.default_request_timeout_ms,
    drainTimeoutMs: s.drain_timeout_ms,
    shutdownDelayMs,
    connections,
    logLevel: s.log_level,
    accessLogSampleRate: s.access_log_sample_rate,
    prometheus: { enable: s.prometheus.enable, path: s.prometheus.path },
    limits: {
      maxBodyBytes: s.limits.max_body_bytes,
      maxJsonDepth: s.limits.max_json_depth,
      maxTensorElements: s.limits.max_tensor_elements,
      maxGrpcMessageBytes: s.limits.max_grpc_message_bytes,
      maxQueuedRequests: s.limits.max_queued_requests,
    },
    tls: s.tls
      ? {
          certPath: path.resolve(baseDir, s.tls.cert),
          keyPath: path.resolve(baseDir, s.tls.key),
          caPath: s.tls.ca === undefined ? undefined : path.resolve(baseDir, s.tls.ca),
          requireClientCert: s.tls.require_client_cert,
        }
      : undefined,
    devices,
    models,
    modelDefaults: copy.model_defaults,
    tenancy: tenancy ?? TENANCY_OFF,
    baseDir,
    configFile: undefined,
    configPollIntervalMs: Math.round(s.model_config_file_poll_wait_seconds * 1000),
    configFilePollIntervalMs: Math.round(s.config_file_poll_wait_seconds * 1000),
  };
  return deepFreeze(config);
}

/**
 * Resolves the tenancy keys (key references become digests); problems join the config's own.
 * The schema has validated the section's structure already (tenancySchemaProperties).
 */
function buildTenancy(
  raw: RawConfig,
  source: string,
  baseDir: string,
  problems: string[],
): TenancyConfig | undefined {
  try {
    return resolveTenancy(
      {
        tenants: raw.tenants,
        admin_keys: raw.admin_keys,
        admin_client_cert_subjects: raw.admin_client_cert_subjects,
        metrics_keys: raw.metrics_keys,
      },
      { baseDir, source },
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return undefined;
  }
}

function buildDevices(raw: RawConfig): DeviceConfig[] {
  const entries = Object.entries(raw.devices);
  if (!entries.some(([name]) => name === 'cpu')) entries.unshift(['cpu', {}]);
  const x = CONFIG_DEFAULTS.device;
  return entries.map(([name, d]) => ({
    name,
    workers: d.workers ?? x.workers,
    intraOpThreads: d.intra_op_threads ?? x.intraOpThreads,
    interOpThreads: d.inter_op_threads ?? x.interOpThreads,
    memoryBudgetBytes: d.memory_budget_bytes ?? x.memoryBudgetBytes,
    memoryMeasurement: d.memory_measurement ?? x.memoryMeasurement,
  }));
}

/** Turns one raw model entry into a ModelConfig, applying `model_defaults` then built-in defaults. */
export function buildModel(
  m: RawModel,
  index: number,
  defaults: ModelDefaults,
  baseDir: string,
  problems: string[],
): ModelConfig {
  const where = `models[${index}]`;
  const batching = buildBatching({ ...defaults.batching, ...m.batching }, `${where}.batching`, problems);
  return {
    name: m.name,
    basePath: path.resolve(baseDir, m.base_path),
    platform: m.platform,
    versionPolicy: buildPolicy(m.version_policy ?? defaults.version_policy),
    versionLabels: { ...(m.version_labels ?? {}) },
    device: m.device ?? defaults.device ?? MODEL_DEFAULTS.device,
    instances: m.instances ?? defaults.instances ?? MODEL_DEFAULTS.instances,
    batching,
    loadRetries: m.load_retries ?? defaults.load_retries ?? MODEL_DEFAULTS.loadRetries,
    loadRetryIntervalMs:
      m.load_retry_interval_ms ?? defaults.load_retry_interval_ms ?? MODEL_DEFAULTS.loadRetryIntervalMs,
    tenant: m.tenant,
    residency: buildResidency(m, defaults),
    signatures: buildExampleSignatures(m.signatures, where, baseDir, problems),
    warmup: buildWarmup(m, defaults),
    transitionPolicy: m.transition_policy ?? defaults.transition_policy,
  };
}

/** Pinned (undefined) unless the model or `model_defaults` says `load_on_demand: true`. */
function buildResidency(m: RawModel, defaults: ModelDefaults): ResidencyConfig | undefined {
  if (!(m.load_on_demand ?? defaults.load_on_demand ?? false)) return undefined;
  return {
    loadOnDemand: true,
    idleUnloadSeconds:
      m.idle_unload_seconds ?? defaults.idle_unload_seconds ?? MODEL_DEFAULTS.idleUnloadSeconds,
    coldStartTimeoutMs:
      m.cold_start_timeout_ms ?? defaults.cold_start_timeout_ms ?? MODEL_DEFAULTS.coldStartTimeoutMs,
  };
}

/** A model's warmup options: its own keys, then `model_defaults`, then TF Serving's defaults. */
function buildWarmup(m: RawModel, defaults: ModelDefaults): WarmupOptions {
  const d = CONFIG_DEFAULTS.warmup;
  const w0 = CONFIG_DEFAULTS.declaredWarmup;
  // TF Serving: 0 (what an unset key means) is one pass, like 1.
  const iterations = m.num_request_iterations_for_warmup ?? defaults.num_request_iterations_for_warmup ?? 0;
  const declared = m.warmup ?? defaults.warmup ?? [];
  return {
    enabled: m.enable_model_warmup ?? defaults.enable_model_warmup ?? d.enabled,
    iterations: Math.max(d.iterations, iterations),
    maxRecords: m.max_warmup_records ?? defaults.max_warmup_records ?? d.maxRecords,
    timeoutMs: m.warmup_timeout_ms ?? defaults.warmup_timeout_ms ?? d.timeoutMs,
    declared: declared.map((w) => ({
      batchSizes: w.batch_sizes ?? w0.batchSizes,
      data: w.data ?? w0.data,
      count: w.count ?? w0.count,
      dims: w.dims ?? {},
    })),
  };
}

function buildPolicy(p: RawPolicy | undefined): VersionPolicy {
  if (p?.all) return { kind: 'all' };
  if (p?.specific)
    return { kind: 'specific', versions: [...new Set(p.specific.versions)].sort((a, b) => a - b) };
  return { kind: 'latest', numVersions: p?.latest?.num_versions ?? MODEL_DEFAULTS.latestNumVersions };
}

/**
 * A model's batching options: its own keys over `model_defaults`' over CONFIG_DEFAULTS.batching.
 * The rules across options (batchingProblems, shared with the scheduler) are recorded under
 * `where` with the YAML key names.
 */
export function buildBatching(b: RawBatching, where: string, problems: string[]): BatchingOptions {
  const d = CONFIG_DEFAULTS.batching;
  const maxBatchSize = b.max_batch_size ?? d.maxBatchSize;
  const options: BatchingOptions = {
    maxBatchSize,
    batchTimeoutMicros: b.batch_timeout_micros ?? d.batchTimeoutMicros,
    eagerDispatch: b.eager_dispatch ?? d.eagerDispatch,
    maxEnqueuedBatches: b.max_enqueued_batches ?? d.maxEnqueuedBatches,
    numBatchThreads: b.num_batch_threads ?? d.numBatchThreads,
    allowedBatchSizes: b.allowed_batch_sizes ?? d.allowedBatchSizes,
    padVariableLengthInputs: b.pad_variable_length_inputs ?? d.padVariableLengthInputs,
    enableLargeBatchSplitting: b.enable_large_batch_splitting ?? d.enableLargeBatchSplitting,
    // Unset: the largest batch (TF Serving's default).
    maxExecutionBatchSize: b.max_execution_batch_size ?? maxBatchSize,
    maxQueueSize: b.max_queue_size ?? d.maxQueueSize,
    defaultQueueTimeoutMicros: b.default_queue_timeout_micros ?? d.defaultQueueTimeoutMicros,
  };
  for (const p of batchingProblems(options, yamlKey))
    problems.push(`${where}.${yamlKey(p.option)} ${p.message}`);
  return options;
}

/** The YAML key of a batching option: `maxExecutionBatchSize` → `max_execution_batch_size`. */
function yamlKey(option: keyof BatchingOptions): string {
  return option.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function checkModels(
  models: readonly ModelConfig[],
  devices: readonly DeviceConfig[],
  problems: string[],
): void {
  const seen = new Map<string, number>();
  models.forEach((m, i) => {
    const id = `${m.tenant ?? ''}/${m.name}`;
    const first = seen.get(id);
    if (first !== undefined)
      problems.push(`models[${i}].name '${m.name}' is already used by models[${first}]`);
    else seen.set(id, i);
    if (!devices.some((d) => d.name === m.device)) {
      problems.push(`models[${i}].device '${m.device}' is not configured under devices`);
    }
    if (m.versionPolicy.kind === 'specific') {
      for (const [label, v] of Object.entries(m.versionLabels)) {
        if (!m.versionPolicy.versions.includes(v)) {
          problems.push(
            `models[${i}].version_labels.${label} points at version ${v}, which the version_policy does not serve`,
          );
        }
      }
    }
  });
}

/**
 * JSON schema of the YAML server config (snake_case keys, as in TF Serving). The raw config
 * types are derived from it (raw-config.ts). Defaults come from CONFIG_DEFAULTS and are filled
 * in by ajv (`useDefaults`) where the schema names them. Semantic checks the schema cannot
 * express live in load-config.ts (batching rules: batching-validation.ts).
 */
import { CONFIG_DEFAULTS } from './config-defaults.js';
import {
  connectionsSchema,
  grpcConnectionSchema,
  MAX_TIMER_MS,
  shutdownDelaySchema,
} from './connection-config.js';
import { exampleSignaturesSchema } from './example-signatures.js';
import { tenancySchemaProperties } from './tenant-config.js';

/** pino's levels, for `server.log_level` and `--log_level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const ds = CONFIG_DEFAULTS.server;
const dl = CONFIG_DEFAULTS.limits;
const positiveInt = { type: 'integer', minimum: 1 } as const;
const nonNegativeInt = { type: 'integer', minimum: 0 } as const;

export const batchingSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max_batch_size: positiveInt,
    batch_timeout_micros: nonNegativeInt,
    eager_dispatch: { type: 'boolean' },
    max_enqueued_batches: positiveInt,
    num_batch_threads: nonNegativeInt,
    allowed_batch_sizes: { type: 'array', items: positiveInt },
    pad_variable_length_inputs: { type: 'boolean' },
    enable_large_batch_splitting: { type: 'boolean' },
    max_execution_batch_size: positiveInt,
    max_queue_size: nonNegativeInt,
    default_queue_timeout_micros: nonNegativeInt,
  },
} as const;

export const versionPolicySchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    latest: {
      type: 'object',
      additionalProperties: false,
      properties: { num_versions: positiveInt },
    },
    all: { type: 'object', additionalProperties: false },
    specific: {
      type: 'object',
      additionalProperties: false,
      required: ['versions'],
      properties: { versions: { type: 'array', minItems: 1, items: nonNegativeInt } },
    },
  },
} as const;

/** On-demand residency keys, on a model or in `model_defaults` (README "Many models"). */
const residencySchemaProperties = {
  load_on_demand: { type: 'boolean' },
  idle_unload_seconds: { type: 'number', minimum: 0 },
  cold_start_timeout_ms: positiveInt,
} as const;

export const warmupDeclSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    batch_sizes: { type: 'array', minItems: 1, items: positiveInt },
    data: { enum: ['zero', 'random'] },
    count: positiveInt,
    dims: { type: 'object', additionalProperties: { type: 'array', items: positiveInt } },
  },
} as const;

/** Keys both `model_defaults` and each model take: warmup and the transition policy. */
const lifecycleProperties = {
  enable_model_warmup: { type: 'boolean' },
  // TF Serving: 0 (the default) means one pass over the warmup records.
  num_request_iterations_for_warmup: nonNegativeInt,
  max_warmup_records: positiveInt,
  warmup_timeout_ms: nonNegativeInt,
  warmup: { type: 'array', items: warmupDeclSchema },
  transition_policy: { enum: ['availability-preserving', 'resource-preserving'] },
} as const;

export const modelSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'base_path'],
  properties: {
    name: { type: 'string', pattern: '^[^/:\\s]+$' },
    base_path: { type: 'string', minLength: 1 },
    platform: { enum: ['onnx', 'tfjs', 'tensorflow'] },
    version_policy: versionPolicySchema,
    version_labels: {
      type: 'object',
      propertyNames: { pattern: '^[^/:\\s]+$' },
      additionalProperties: nonNegativeInt,
    },
    device: { type: 'string', pattern: '^(cpu|cuda:[0-9]+)$' },
    instances: nonNegativeInt,
    batching: batchingSchema,
    load_retries: nonNegativeInt,
    load_retry_interval_ms: nonNegativeInt,
    tenant: { type: 'string', minLength: 1 },
    ...residencySchemaProperties,
    signatures: exampleSignaturesSchema,
    ...lifecycleProperties,
  },
} as const;

const deviceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    workers: positiveInt,
    intra_op_threads: positiveInt,
    // Threads ONNX may run independent graph nodes on (1 = sequential execution).
    inter_op_threads: positiveInt,
    memory_budget_bytes: nonNegativeInt,
    memory_measurement: { enum: ['runtime', 'estimate'] },
  },
} as const;

export const serverConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: ds.host },
        rest_api_port: { type: 'integer', minimum: -1, maximum: 65535, default: ds.restApiPort },
        grpc_port: { type: 'integer', minimum: -1, maximum: 65535, default: ds.grpcPort },
        file_system_poll_wait_seconds: { type: 'number', minimum: 0, default: ds.fileSystemPollWaitSeconds },
        model_config_file_poll_wait_seconds: {
          type: 'number',
          minimum: 0,
          default: ds.modelConfigFilePollWaitSeconds,
        },
        // How often the YAML config itself is re-read (hot reload; 0 = only on SIGHUP).
        config_file_poll_wait_seconds: { type: 'number', minimum: 0, default: ds.configFilePollWaitSeconds },
        default_request_timeout_ms: { ...nonNegativeInt, default: ds.defaultRequestTimeoutMs },
        // Upper bound from SIGTERM/SIGINT to exit, the shutdown delay included.
        drain_timeout_ms: { ...nonNegativeInt, maximum: MAX_TIMER_MS, default: ds.drainTimeoutMs },
        // Readiness is false but requests are still accepted for this long after the signal.
        shutdown_delay_ms: shutdownDelaySchema,
        connections: connectionsSchema,
        grpc: grpcConnectionSchema,
        log_level: { enum: LOG_LEVELS, default: ds.logLevel },
        // Fraction of successful requests that get an access log line; failed ones (HTTP
        // status >= 400, gRPC status not OK) always do. 0.01 keeps busy servers' logs small.
        access_log_sample_rate: { type: 'number', minimum: 0, maximum: 1, default: ds.accessLogSampleRate },
        limits: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max_body_bytes: { ...positiveInt, default: dl.maxBodyBytes },
            max_json_depth: { ...positiveInt, default: dl.maxJsonDepth },
            max_tensor_elements: { ...positiveInt, default: dl.maxTensorElements },
            max_grpc_message_bytes: { ...positiveInt, default: dl.maxGrpcMessageBytes },
            // Server-wide bound on requests waiting to run (0 = none); over it → 503 / UNAVAILABLE.
            max_queued_requests: { ...nonNegativeInt, default: dl.maxQueuedRequests },
          },
        },
        prometheus: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enable: { type: 'boolean', default: CONFIG_DEFAULTS.prometheus.enable },
            path: { type: 'string', pattern: '^/', default: CONFIG_DEFAULTS.prometheus.path },
          },
        },
        tls: {
          type: 'object',
          additionalProperties: false,
          required: ['cert', 'key'],
          properties: {
            cert: { type: 'string', minLength: 1 },
            key: { type: 'string', minLength: 1 },
            ca: { type: 'string', minLength: 1 },
            require_client_cert: { type: 'boolean', default: CONFIG_DEFAULTS.tls.requireClientCert },
          },
        },
      },
    },
    devices: {
      type: 'object',
      default: {},
      propertyNames: { pattern: '^(cpu|cuda:[0-9]+)$' },
      additionalProperties: deviceSchema,
    },
    model_defaults: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        device: modelSchema.properties.device,
        instances: nonNegativeInt,
        batching: batchingSchema,
        load_retries: nonNegativeInt,
        load_retry_interval_ms: nonNegativeInt,
        version_policy: versionPolicySchema,
        ...residencySchemaProperties,
        ...lifecycleProperties,
      },
    },
    models: { type: 'array', default: [], items: modelSchema },
    ...tenancySchemaProperties,
  },
} as const;

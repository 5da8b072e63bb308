import { DEFAULT_BATCHING } from '../../batching/batching-options.js';
import { deepFreeze } from './deep-freeze.js';

/**
 * Every default of the YAML config, in one object: the schema fills the `server` ones in
 * (its `default` keywords read them from here), the config builders apply the rest when
 * neither a model nor `model_defaults` says otherwise. README.md lists them; a change of a
 * default belongs there too.
 */
export const CONFIG_DEFAULTS = deepFreeze({
  server: {
    host: '0.0.0.0',
    restApiPort: 8501,
    grpcPort: 8500,
    fileSystemPollWaitSeconds: 1,
    modelConfigFilePollWaitSeconds: 0,
    configFilePollWaitSeconds: 5,
    defaultRequestTimeoutMs: 0,
    drainTimeoutMs: 30_000,
    logLevel: 'info',
    accessLogSampleRate: 0.01,
  },
  limits: {
    maxBodyBytes: 64 * 1024 * 1024,
    maxJsonDepth: 64,
    maxTensorElements: 16 * 1024 * 1024,
    maxGrpcMessageBytes: 64 * 1024 * 1024,
    maxQueuedRequests: 0,
  },
  prometheus: { enable: true, path: '/monitoring/prometheus/metrics' },
  tls: { requireClientCert: false },
  connections: {
    maxConnections: 10_000,
    headerTimeoutMs: 10_000,
    bodyTimeoutMs: 60_000,
    keepAliveTimeoutMs: 72_000,
    drainIdleGraceMs: 1_000,
    maxDeadlineMs: 600_000,
    grpcMaxConnectionIdleMs: 300_000,
    grpcMaxConnectionAgeMs: 1_800_000,
    grpcMaxConnectionAgeGraceMs: 30_000,
    grpcKeepaliveTimeMs: 60_000,
    grpcKeepaliveTimeoutMs: 20_000,
    grpcDrainNoticeMs: 1_000,
    grpcListenWhenReady: false,
    /** Capped to drain_timeout_ms (connection-config.ts resolveShutdownDelay). */
    shutdownDelayMs: 5_000,
  },
  /** Each entry under `devices` (and the `cpu` device added when none is configured). */
  device: {
    workers: 2,
    intraOpThreads: 1,
    interOpThreads: 1,
    memoryBudgetBytes: 0,
    memoryMeasurement: 'runtime',
  },
  /** A model's settings when neither it nor `model_defaults` gives them. */
  model: {
    device: 'cpu',
    instances: 0,
    loadRetries: 5,
    loadRetryIntervalMs: 60_000,
    /** `version_policy: { latest: {} }` serves this many versions. */
    latestNumVersions: 1,
    idleUnloadSeconds: 0,
    coldStartTimeoutMs: 30_000,
  },
  /** TF Serving's batching defaults; 0 batch threads = one per worker holding the model (resolved at load). */
  batching: { ...DEFAULT_BATCHING, numBatchThreads: 0 },
  /** TF Serving's warmup defaults: on, one pass, at most 1000 records. */
  warmup: {
    enabled: true,
    iterations: 1,
    maxRecords: 1000,
    timeoutMs: 300_000,
  },
  /** One entry of a model's `warmup` list. */
  declaredWarmup: { batchSizes: [1], data: 'zero', count: 1 },
  /** A tenant's weight and quotas (0 = unlimited). */
  tenant: {
    weight: 1,
    requestsPerSecond: 0,
    maxQueued: 0,
    maxInFlight: 0,
    maxMemoryBytes: 0,
  },
} as const);

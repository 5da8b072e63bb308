import type { ConnectionSettings } from './connection-config.js';
import type { ModelConfig } from './model-config.js';
import type { ModelDefaults } from './raw-config.js';
import type { TenancyConfig } from './tenant-config.js';

/** One device pool: `cpu` or `cuda:N`. */
export interface DeviceConfig {
  readonly name: string;
  /** Worker threads in the pool. */
  readonly workers: number;
  /** Threads one inference may use inside a worker. */
  readonly intraOpThreads: number;
  /** Threads one inference may run independent graph nodes on (ONNX inter-op; 1 = sequential). */
  readonly interOpThreads: number;
  /** Bytes of model memory the device may hold (0 = unlimited). */
  readonly memoryBudgetBytes: number;
  /**
   * How a loaded version's charge is known: `runtime` (default) measures it after the load
   * (tfjs backend bytes, onnxruntime the worker process's RSS delta); `estimate` keeps the
   * file-size estimate (deterministic, e.g. for tests and strict capacity planning).
   */
  readonly memoryMeasurement?: 'runtime' | 'estimate';
}

export interface TlsConfig {
  readonly certPath: string;
  readonly keyPath: string;
  /** CA bundle used to verify client certificates (mutual TLS). */
  readonly caPath: string | undefined;
  readonly requireClientCert: boolean;
  /**
   * PEM text given inline (`--ssl_config_file`); when set it is used instead of the paths,
   * which then name the file it came from.
   */
  readonly pem?: { readonly cert: string; readonly key: string; readonly ca: string | undefined };
}

/** The Prometheus scrape endpoint (`server.prometheus`, `--monitoring_config_file`). */
export interface PrometheusConfig {
  readonly enable: boolean;
  /** Served in addition to `/metrics`. */
  readonly path: string;
}

/** Explicit limits on what one request may ask of the server. */
export interface RequestLimits {
  readonly maxBodyBytes: number;
  readonly maxJsonDepth: number;
  readonly maxTensorElements: number;
  readonly maxGrpcMessageBytes: number;
  /** Requests of all tenants waiting to run before new ones get UNAVAILABLE (0 = no bound). */
  readonly maxQueuedRequests: number;
}

/** The validated, frozen server configuration. Built only by `loadConfig`/`configFromFlags`. */
export interface ServerConfig {
  readonly host: string;
  /** 0 picks a free port; -1 disables the front end. */
  readonly restPort: number;
  readonly grpcPort: number;
  readonly pollIntervalMs: number;
  /** Default per-request deadline for REST calls without `x-request-timeout-ms` (0 = none). */
  readonly defaultRequestTimeoutMs: number;
  /**
   * Upper bound of a shutdown, from the signal to exit (the shutdown delay included): at this
   * deadline connections still open are destroyed.
   */
  readonly drainTimeoutMs: number;
  /** After the signal, how long readiness is false while new connections are still accepted. */
  readonly shutdownDelayMs: number;
  /** Connection limits and timeouts of both front ends (server.connections, server.grpc). */
  readonly connections: ConnectionSettings;
  readonly logLevel: string;
  /** Fraction (0..1) of successful requests logged as access lines; failures are always logged. */
  readonly accessLogSampleRate: number;
  readonly prometheus: PrometheusConfig;
  readonly limits: RequestLimits;
  readonly tls: TlsConfig | undefined;
  readonly devices: readonly DeviceConfig[];
  readonly models: readonly ModelConfig[];
  /** `model_defaults`, kept for model lists that arrive later (text config file, reload RPC). */
  readonly modelDefaults: ModelDefaults;
  /** Tenants, admin keys and quotas with every key resolved to its digest; `enabled` false = open server. */
  readonly tenancy: TenancyConfig;
  /** Directory relative paths in the config were resolved against. */
  readonly baseDir: string;
  /** TF Serving text-format model list (`--model_config_file`), re-read every `configPollIntervalMs` when > 0. */
  readonly configFile: string | undefined;
  readonly configPollIntervalMs: number;
  /** How often the YAML config file is re-read for hot reload (0 = only on SIGHUP). */
  readonly configFilePollIntervalMs: number;
}

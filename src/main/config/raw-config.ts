import type { Platform } from '../../core/platform.js';
import type { RawConnections, RawGrpcConnections } from './connection-config.js';
import type { RawExampleSignature } from './example-signatures.js';
import type { TransitionPolicyName } from './model-config.js';

/**
 * The raw YAML shapes of the server config, as the schema (schema.ts) has validated them
 * and Ajv has filled in their defaults: snake_case keys, nothing resolved. Only the config
 * layer reads them; everything else gets the resolved ServerConfig / ModelConfig.
 */

export type RawBatching = Partial<Record<string, unknown>> & {
  max_batch_size?: number;
  batch_timeout_micros?: number;
  eager_dispatch?: boolean;
  max_enqueued_batches?: number;
  num_batch_threads?: number;
  allowed_batch_sizes?: number[];
  pad_variable_length_inputs?: boolean;
  enable_large_batch_splitting?: boolean;
  max_execution_batch_size?: number;
  max_queue_size?: number;
  default_queue_timeout_micros?: number;
};
export type RawWarmupDecl = {
  batch_sizes?: number[];
  data?: 'zero' | 'random';
  count?: number;
  dims?: Record<string, number[]>;
};
export type RawPolicy = {
  latest?: { num_versions?: number };
  all?: object;
  specific?: { versions: number[] };
};
export interface RawModel {
  name: string;
  base_path: string;
  platform?: Platform;
  version_policy?: RawPolicy;
  version_labels?: Record<string, number>;
  device?: string;
  instances?: number;
  batching?: RawBatching;
  load_retries?: number;
  load_retry_interval_ms?: number;
  tenant?: string;
  load_on_demand?: boolean;
  idle_unload_seconds?: number;
  cold_start_timeout_ms?: number;
  signatures?: Record<string, RawExampleSignature>;
  enable_model_warmup?: boolean;
  num_request_iterations_for_warmup?: number;
  max_warmup_records?: number;
  warmup_timeout_ms?: number;
  warmup?: RawWarmupDecl[];
  transition_policy?: TransitionPolicyName;
}
/** The `model_defaults` section: what models inherit when they do not say. */
export type ModelDefaults = Omit<
  RawModel,
  'name' | 'base_path' | 'platform' | 'version_labels' | 'tenant' | 'signatures'
>;

export interface RawConfig {
  server: {
    host: string;
    rest_api_port: number;
    grpc_port: number;
    file_system_poll_wait_seconds: number;
    model_config_file_poll_wait_seconds: number;
    config_file_poll_wait_seconds: number;
    default_request_timeout_ms: number;
    drain_timeout_ms: number;
    shutdown_delay_ms?: number;
    connections: RawConnections;
    grpc: RawGrpcConnections;
    log_level: string;
    access_log_sample_rate: number;
    limits: {
      max_body_bytes: number;
      max_json_depth: number;
      max_tensor_elements: number;
      max_grpc_message_bytes: number;
      max_queued_requests: number;
    };
    prometheus: { enable: boolean; path: string };
    tls?: { cert: string; key: string; ca?: string; require_client_cert: boolean };
  };
  devices: Record<
    string,
    {
      workers?: number;
      intra_op_threads?: number;
      inter_op_threads?: number;
      memory_budget_bytes?: number;
      memory_measurement?: 'runtime' | 'estimate';
    }
  >;
  model_defaults: ModelDefaults;
  models: RawModel[];
  tenants: unknown[];
  admin_keys?: unknown[];
  admin_client_cert_subjects?: unknown[];
  metrics_keys?: unknown[];
}

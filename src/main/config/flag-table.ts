/**
 * The command line tensorserve accepts: every flag of TF Serving's `tensorflow_model_server`
 * (TF Serving's names, meanings and defaults) plus tensorserve's own few. This table is the
 * single source for parsing, `--help` and the README's flag table.
 */
export type FlagKind = 'bool' | 'int' | 'number' | 'string';

export interface FlagSpec {
  /** Name without dashes, as TF Serving spells it. */
  readonly name: string;
  readonly kind: FlagKind;
  /** Placeholder in `--help` (`N`, `FILE`, ...); none for booleans. */
  readonly arg?: string;
  /** TF Serving's default as text, shown in `--help` ('' = none). */
  readonly tfDefault: string;
  /** What it sets in tensorserve: a YAML path or an effect. */
  readonly mapsTo: string;
  /** Set when tensorserve has no equivalent: the flag is accepted with one warning saying why. */
  readonly noEffect?: string;
  /** Lowest accepted value for numbers. */
  readonly min?: number;
  /** Other names accepted for this flag (TF Serving's internal option names). */
  readonly aliases?: readonly string[];
  /** tensorserve's own flag, not TF Serving's. */
  readonly own?: boolean;
}

export const FLAG_TABLE: readonly FlagSpec[] = [
  {
    name: 'port',
    kind: 'int',
    arg: 'N',
    tfDefault: '8500',
    min: -1,
    aliases: ['grpc_port'],
    mapsTo: 'server.grpc_port (0 = any free port, -1 = off)',
  },
  {
    name: 'rest_api_port',
    kind: 'int',
    arg: 'N',
    tfDefault: '0',
    min: -1,
    mapsTo: 'server.rest_api_port (0 = REST off, as in TF Serving)',
  },
  {
    name: 'rest_api_timeout_in_ms',
    kind: 'int',
    arg: 'MS',
    tfDefault: '30000',
    min: 0,
    mapsTo: 'server.default_request_timeout_ms (deadline of REST calls that set none)',
  },
  {
    name: 'rest_api_num_threads',
    kind: 'int',
    arg: 'N',
    tfDefault: '',
    min: 0,
    mapsTo: '-',
    noEffect: 'REST requests are served by the event loop; inference threads are devices.<d>.workers',
  },
  {
    name: 'rest_api_enable_cors_support',
    kind: 'bool',
    tfDefault: 'false',
    mapsTo: '-',
    noEffect: 'tensorserve sends no CORS headers; put a proxy in front for browser clients',
  },
  {
    name: 'enable_batching',
    kind: 'bool',
    tfDefault: 'false',
    mapsTo:
      "model_defaults.batching: off (no size limit, no waiting), or TF Serving's batching defaults / --batching_parameters_file",
  },
  {
    name: 'batching_parameters_file',
    kind: 'string',
    arg: 'FILE',
    tfDefault: '',
    mapsTo: 'model_defaults.batching (text-format BatchingParameters; with --enable_batching)',
  },
  {
    name: 'model_config_file',
    kind: 'string',
    arg: 'FILE',
    tfDefault: '',
    mapsTo: 'the model list (text-format ModelServerConfig; replaces YAML models)',
  },
  {
    name: 'model_config_file_poll_wait_seconds',
    kind: 'number',
    arg: 'N',
    tfDefault: '0',
    min: 0,
    aliases: ['fs_model_config_poll_wait_seconds'],
    mapsTo: 'server.model_config_file_poll_wait_seconds (re-read --model_config_file; 0 = never)',
  },
  {
    name: 'model_name',
    kind: 'string',
    arg: 'NAME',
    tfDefault: 'default',
    mapsTo: 'models[].name of the model given by --model_base_path',
  },
  {
    name: 'model_base_path',
    kind: 'string',
    arg: 'DIR',
    tfDefault: '',
    mapsTo: 'models[].base_path: serve one model without a config file',
  },
  {
    name: 'num_load_threads',
    kind: 'int',
    arg: 'N',
    tfDefault: '0',
    min: 0,
    mapsTo: '-',
    noEffect: 'versions load concurrently on the device pools (devices.<d>.workers)',
  },
  {
    name: 'num_unload_threads',
    kind: 'int',
    arg: 'N',
    tfDefault: '0',
    min: 0,
    mapsTo: '-',
    noEffect: 'versions unload concurrently once their requests drain',
  },
  {
    name: 'max_num_load_retries',
    kind: 'int',
    arg: 'N',
    tfDefault: '5',
    min: 0,
    mapsTo: 'model_defaults.load_retries',
  },
  {
    name: 'load_retry_interval_micros',
    kind: 'int',
    arg: 'US',
    tfDefault: '60000000',
    min: 0,
    mapsTo: 'model_defaults.load_retry_interval_ms (µs / 1000, rounded up)',
  },
  {
    name: 'file_system_poll_wait_seconds',
    kind: 'number',
    arg: 'N',
    tfDefault: '1',
    min: 0,
    mapsTo: 'server.file_system_poll_wait_seconds (version directory polling)',
  },
  {
    name: 'tensorflow_session_parallelism',
    kind: 'int',
    arg: 'N',
    tfDefault: '0',
    min: 0,
    mapsTo: 'devices.<d>.intra_op_threads and inter_op_threads where those flags are 0',
  },
  {
    name: 'tensorflow_intra_op_parallelism',
    kind: 'int',
    arg: 'N',
    tfDefault: '0',
    min: 0,
    mapsTo: 'devices.<d>.intra_op_threads (ONNX intraOpNumThreads; TF_NUM_INTRAOP_THREADS for tfjs-node)',
  },
  {
    name: 'tensorflow_inter_op_parallelism',
    kind: 'int',
    arg: 'N',
    tfDefault: '0',
    min: 0,
    mapsTo: 'devices.<d>.inter_op_threads (ONNX interOpNumThreads; TF_NUM_INTEROP_THREADS for tfjs-node)',
  },
  {
    name: 'per_process_gpu_memory_fraction',
    kind: 'number',
    arg: 'F',
    tfDefault: '0',
    min: 0,
    mapsTo: "devices.cuda:N.memory_budget_bytes = F × the GPU's total memory (nvidia-smi); 0 = no limit",
  },
  {
    name: 'ssl_config_file',
    kind: 'string',
    arg: 'FILE',
    tfDefault: '',
    mapsTo: 'server.tls (text-format SSLConfig, PEM inline)',
  },
  {
    name: 'monitoring_config_file',
    kind: 'string',
    arg: 'FILE',
    tfDefault: '',
    mapsTo: 'server.prometheus.enable and .path (text-format MonitoringConfig)',
  },
  {
    name: 'platform_config_file',
    kind: 'string',
    arg: 'FILE',
    tfDefault: '',
    mapsTo: '-',
    noEffect: "runtimes are chosen per model (models[].platform or the version directory's files)",
  },
  {
    name: 'saved_model_tags',
    kind: 'string',
    arg: 'TAGS',
    tfDefault: 'serve',
    mapsTo: '-',
    noEffect: 'ONNX and TF.js models have no SavedModel tags',
  },
  {
    name: 'grpc_channel_arguments',
    kind: 'string',
    arg: 'ARGS',
    tfDefault: '',
    mapsTo: '-',
    noEffect: 'gRPC limits are set in YAML (server.limits.max_grpc_message_bytes)',
  },
  {
    name: 'grpc_max_threads',
    kind: 'int',
    arg: 'N',
    tfDefault: '',
    min: 0,
    mapsTo: '-',
    noEffect: 'gRPC calls are served by the event loop',
  },
  {
    name: 'enable_model_warmup',
    kind: 'bool',
    tfDefault: 'true',
    mapsTo: 'model_defaults.enable_model_warmup',
  },
  {
    name: 'num_request_iterations_for_warmup',
    kind: 'int',
    arg: 'N',
    tfDefault: '0',
    min: 0,
    mapsTo: 'model_defaults.num_request_iterations_for_warmup (0 = one pass over the records)',
  },
  {
    name: 'enable_grpc_healthcheck_service',
    kind: 'bool',
    tfDefault: 'false',
    mapsTo: '-',
    noEffect: 'the grpc.health.v1 service is always served',
  },
  { name: 'version', kind: 'bool', tfDefault: 'false', mapsTo: 'prints the version and exits' },
  {
    name: 'config',
    kind: 'string',
    arg: 'FILE',
    tfDefault: '',
    own: true,
    mapsTo: 'the YAML server config (hot reloaded); flags given win over it',
  },
  {
    name: 'host',
    kind: 'string',
    arg: 'ADDR',
    tfDefault: '0.0.0.0',
    own: true,
    mapsTo: 'server.host',
  },
  {
    name: 'log_level',
    kind: 'string',
    arg: 'LEVEL',
    tfDefault: 'info',
    own: true,
    mapsTo: 'server.log_level',
  },
  { name: 'help', kind: 'bool', tfDefault: 'false', own: true, mapsTo: 'prints this help and exits' },
];

/** Flag name or alias → its spec. */
export const FLAGS_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(
  FLAG_TABLE.flatMap((f) => [[f.name, f] as const, ...(f.aliases ?? []).map((a) => [a, f] as const)]),
);

import path from 'node:path';
import { ConfigError } from './config-error.js';
import { deepFreeze } from './deep-freeze.js';
import {
  readBatchingParameters,
  readMonitoringConfig,
  readSslConfig,
  TF_BATCHING_DEFAULTS,
} from './flag-files.js';
import { type FlagValue, type FlagValues, parseFlagValues } from './flag-parser.js';
import { FLAG_TABLE } from './flag-table.js';
import { type GpuTotalMemory, nvidiaSmiTotalMemory } from './gpu-memory.js';
import { buildConfig, loadConfigFile } from './load-config.js';
import { loadModelServerConfigFile } from './model-server-config.js';
import { LOG_LEVELS } from './schema.js';
import type { ServerConfig } from './server-config.js';

/** A parsed command line (see flag-table.ts for every flag). */
export interface Flags {
  /** Every flag given, by its canonical name (aliases resolved). */
  readonly values: FlagValues;
  readonly config?: string;
  readonly modelConfigFile?: string;
  readonly help: boolean;
  readonly version: boolean;
}

export interface CommandLineOptions {
  /** Directory relative flag paths resolve against (default process.cwd()). */
  readonly cwd?: string;
  /** Total memory of a GPU, for `--per_process_gpu_memory_fraction` (default: nvidia-smi). */
  readonly gpuTotalMemory?: GpuTotalMemory;
}

/** What a command line resolves to. Pure: reading it again (a reload) gives the same for the same files. */
export interface CommandLine {
  readonly config: ServerConfig;
  /** One line per flag (or file field) accepted without effect; the CLI logs each as a warning. */
  readonly warnings: readonly string[];
  /** Environment for runtimes that read their threads from it (tfjs-node); set only where unset. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * TF Serving without --enable_batching runs each request as it came, whatever its size. Here:
 * no size limit and no waiting for company; requests that queue while the model is busy may
 * still run together (outputs per request are the same).
 */
export const UNBATCHED_MAX_BATCH_SIZE = 2 ** 31 - 1;
const BATCHING_OFF_RAW = {
  max_batch_size: UNBATCHED_MAX_BATCH_SIZE,
  batch_timeout_micros: 0,
  max_enqueued_batches: 1,
};

function helpLine(f: (typeof FLAG_TABLE)[number]): string {
  const left = `  --${f.name}${f.arg ? `=${f.arg}` : ''}`;
  const dflt = f.tfDefault === '' ? '' : ` (default ${f.tfDefault})`;
  const aliases = f.aliases?.length ? `; alias ${f.aliases.map((a) => `--${a}`).join(', ')}` : '';
  const effect = f.noEffect ? `accepted, no effect: ${f.noEffect}` : f.mapsTo;
  return `${left.padEnd(44)} ${effect}${dflt}${aliases}`;
}

export const USAGE = `Usage: tensorserve [flags]
TF Serving's flags (tensorflow_model_server) with their meaning and defaults, plus --config.
Flags and a --config YAML combine: a flag given wins over the YAML; what no flag gives comes
from the YAML (and the YAML's defaults). Without --config, TF Serving's defaults apply
(REST off unless --rest_api_port, batching off unless --enable_batching, no metrics unless
--monitoring_config_file). The YAML is re-read when it changes and on SIGHUP.
${FLAG_TABLE.map(helpLine).join('\n')}`;

/** Parses argv (without node and script). Throws ConfigError naming a bad or unknown flag. */
export function parseFlags(argv: readonly string[]): Flags {
  const values = parseFlagValues(argv);
  const logLevel = values.get('log_level');
  if (logLevel !== undefined && !(LOG_LEVELS as readonly FlagValue[]).includes(logLevel))
    throw new ConfigError('flags', [`--log_level must be one of ${LOG_LEVELS.join(', ')}`]);
  return {
    values,
    config: values.get('config') as string | undefined,
    modelConfigFile: values.get('model_config_file') as string | undefined,
    help: values.get('help') === true,
    version: values.get('version') === true,
  };
}

type Raw = Record<string, unknown>;
const section = (raw: Raw, key: string): Raw => {
  raw[key] ??= {};
  return raw[key] as Raw;
};

/** Applies the flags onto a raw (unvalidated) config object; `yaml` says whether one was given. */
function applyFlags(
  raw: Raw,
  flags: Flags,
  ctx: Required<CommandLineOptions>,
  yaml: boolean,
  warn: (l: string) => void,
) {
  const v = flags.values;
  const num = (name: string) => v.get(name) as number | undefined;
  const server = section(raw, 'server');
  const defaults = section(raw, 'model_defaults');
  if (!yaml) {
    // TF Serving's defaults where tensorserve's YAML defaults differ.
    server.rest_api_port = -1;
    server.default_request_timeout_ms = 30_000;
    server.prometheus = { enable: false };
    defaults.batching = BATCHING_OFF_RAW;
  }
  const set = (target: Raw, key: string, value: unknown) => {
    if (value !== undefined) target[key] = value;
  };
  set(server, 'grpc_port', num('port'));
  const rest = num('rest_api_port');
  set(server, 'rest_api_port', rest === 0 ? -1 : rest);
  set(server, 'default_request_timeout_ms', num('rest_api_timeout_in_ms'));
  set(server, 'host', v.get('host'));
  set(server, 'log_level', v.get('log_level'));
  set(server, 'file_system_poll_wait_seconds', num('file_system_poll_wait_seconds'));
  set(server, 'model_config_file_poll_wait_seconds', num('model_config_file_poll_wait_seconds'));
  const batchingFile = v.get('batching_parameters_file') as string | undefined;
  const batching = v.get('enable_batching');
  if (batching === true) {
    defaults.batching = batchingFile
      ? readBatchingParameters(path.resolve(ctx.cwd, batchingFile), warn)
      : { ...TF_BATCHING_DEFAULTS };
  } else {
    if (batching === false) defaults.batching = BATCHING_OFF_RAW;
    if (batchingFile) warn('--batching_parameters_file has no effect without --enable_batching');
  }
  set(defaults, 'load_retries', num('max_num_load_retries'));
  const retryMicros = num('load_retry_interval_micros');
  set(
    defaults,
    'load_retry_interval_ms',
    retryMicros === undefined ? undefined : Math.ceil(retryMicros / 1000),
  );
  set(defaults, 'enable_model_warmup', v.get('enable_model_warmup'));
  set(defaults, 'num_request_iterations_for_warmup', num('num_request_iterations_for_warmup'));
  applyDevices(raw, flags, ctx, warn);
  const monitoring = v.get('monitoring_config_file') as string | undefined;
  if (monitoring) server.prometheus = readMonitoringConfig(path.resolve(ctx.cwd, monitoring));
  const modelName = v.get('model_name') as string | undefined;
  const basePath = v.get('model_base_path') as string | undefined;
  if (basePath !== undefined) {
    raw.models ??= [];
    (raw.models as unknown[]).push({
      name: modelName ?? 'default',
      base_path: path.resolve(ctx.cwd, basePath),
    });
  }
  for (const f of FLAG_TABLE) {
    if (f.noEffect && v.has(f.name)) warn(`--${f.name} has no effect in tensorserve: ${f.noEffect}`);
  }
}

/** Thread and GPU memory flags, applied to every configured device (cpu is always one). */
function applyDevices(raw: Raw, flags: Flags, ctx: Required<CommandLineOptions>, warn: (l: string) => void) {
  const v = flags.values;
  const session = (v.get('tensorflow_session_parallelism') as number | undefined) ?? 0;
  const intra = (v.get('tensorflow_intra_op_parallelism') as number | undefined) || session;
  const inter = (v.get('tensorflow_inter_op_parallelism') as number | undefined) || session;
  const fraction = (v.get('per_process_gpu_memory_fraction') as number | undefined) ?? 0;
  if (!intra && !inter && !fraction) return;
  const devices = section(raw, 'devices');
  devices.cpu ??= {};
  for (const [name, d] of Object.entries(devices)) {
    const device = (d ?? {}) as Raw;
    devices[name] = device;
    if (intra) device.intra_op_threads = intra;
    if (inter) device.inter_op_threads = inter;
  }
  if (!fraction) return;
  const gpus = Object.keys(devices).filter((name) => /^cuda:\d+$/.test(name));
  if (gpus.length === 0) {
    warn('--per_process_gpu_memory_fraction has no effect: no cuda:N device is configured under devices');
  }
  for (const name of gpus) {
    const total = ctx.gpuTotalMemory(Number(name.slice('cuda:'.length)));
    if (total === undefined) {
      throw new ConfigError('flags', [
        `--per_process_gpu_memory_fraction: the total memory of ${name} is unknown (nvidia-smi missing or failing); ` +
          `set devices.${name}.memory_budget_bytes in the YAML instead`,
      ]);
    }
    (devices[name] as Raw).memory_budget_bytes = Math.floor(total * fraction);
  }
}

/**
 * The server config for a command line: `--config` YAML (if any) with the flags applied on
 * top (a flag wins), or TF Serving's defaults with the flags when there is no YAML. Throws
 * ConfigError naming the problem (flags, YAML paths, or a flag's file and field).
 */
export function resolveCommandLine(flags: Flags, options: CommandLineOptions = {}): CommandLine {
  const ctx = {
    cwd: options.cwd ?? process.cwd(),
    gpuTotalMemory: options.gpuTotalMemory ?? nvidiaSmiTotalMemory,
  };
  const warnings: string[] = [];
  const warn = (line: string) => warnings.push(line);
  if (flags.values.has('model_name') && !flags.values.has('model_base_path'))
    throw new ConfigError('flags', ['--model_name needs --model_base_path']);
  let config: ServerConfig;
  if (flags.config) {
    config = loadConfigFile(path.resolve(ctx.cwd, flags.config), (raw) =>
      applyFlags(raw, flags, ctx, true, warn),
    );
  } else {
    if (!flags.values.has('model_base_path') && !flags.modelConfigFile) {
      throw new ConfigError('flags', ['give --config, --model_config_file, or --model_base_path']);
    }
    const raw: Raw = {};
    applyFlags(raw, flags, ctx, false, warn);
    config = buildConfig(raw, 'flags', ctx.cwd);
  }
  const ssl = flags.values.get('ssl_config_file') as string | undefined;
  if (ssl) {
    const file = path.resolve(ctx.cwd, ssl);
    const s = readSslConfig(file);
    config = deepFreeze({
      ...config,
      tls: {
        certPath: file,
        keyPath: file,
        caPath: undefined,
        requireClientCert: s.clientVerify,
        pem: { cert: s.serverCert, key: s.serverKey, ca: s.customCa },
      },
    });
  }
  if (flags.modelConfigFile) {
    if (flags.values.has('model_base_path'))
      throw new ConfigError('flags', ['--model_config_file and --model_base_path cannot be combined']);
    const configFile = path.resolve(ctx.cwd, flags.modelConfigFile);
    const models = loadModelServerConfigFile(configFile, config.modelDefaults);
    config = deepFreeze({ ...config, models, configFile });
  }
  return { config, warnings, env: threadEnv(flags) };
}

/** tfjs-node (libtensorflow) reads its thread pools' sizes from the environment. */
function threadEnv(flags: Flags): Record<string, string> {
  const v = flags.values;
  const session = (v.get('tensorflow_session_parallelism') as number | undefined) ?? 0;
  const intra = (v.get('tensorflow_intra_op_parallelism') as number | undefined) || session;
  const inter = (v.get('tensorflow_inter_op_parallelism') as number | undefined) || session;
  const env: Record<string, string> = {};
  if (intra) env.TF_NUM_INTRAOP_THREADS = String(intra);
  if (inter) env.TF_NUM_INTEROP_THREADS = String(inter);
  return env;
}

/** The server config for a command line (see resolveCommandLine), without its warnings. */
export function configFromFlags(flags: Flags, cwd = process.cwd()): ServerConfig {
  return resolveCommandLine(flags, { cwd }).config;
}

import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './config-error.js';
import { buildConfig, deepFreeze, loadConfigFile } from './load-config.js';
import { loadModelServerConfigFile } from './model-server-config.js';
import { LOG_LEVELS } from './schema.js';
import type { ServerConfig } from './server-config.js';

/** TF Serving-style command-line flags (`--rest_api_port=8501` or `--rest_api_port 8501`). */
export interface Flags {
  readonly config?: string;
  readonly modelConfigFile?: string;
  readonly port?: number;
  readonly restApiPort?: number;
  readonly host?: string;
  readonly modelName?: string;
  readonly modelBasePath?: string;
  readonly fileSystemPollWaitSeconds?: number;
  readonly modelConfigFilePollWaitSeconds?: number;
  /** Overrides `server.log_level`. */
  readonly logLevel?: string;
  readonly help: boolean;
}

export const USAGE = `Usage: tensorserve [flags]
  --config=FILE                         YAML server config (see config/server.yaml)
  --model_config_file=FILE              TF Serving ModelServerConfig text file (models only)
  --model_config_file_poll_wait_seconds=N  re-read --model_config_file every N seconds (0 = never)
  --port=N                              gRPC port (default 8500, 0 = any free port, -1 = off)
  --rest_api_port=N                     REST port (default 8501, 0 = any free port, -1 = off)
  --host=ADDR                           address to bind (default 0.0.0.0)
  --model_name=NAME --model_base_path=DIR  serve one model without a config file
  --file_system_poll_wait_seconds=N     how often model base paths are polled (default 1)
  --log_level=LEVEL                     ${LOG_LEVELS.join('|')} (default info; server.log_level)
  --help`;

function intFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new ConfigError('flags', [`--${name} must be an integer >= ${min}`]);
  return n;
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError('flags', [`--${name} must be a number >= 0`]);
  return n;
}

/** Parses argv (without node and script). Unknown flags are a ConfigError naming them. */
export function parseFlags(argv: readonly string[]): Flags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        model_config_file: { type: 'string' },
        model_config_file_poll_wait_seconds: { type: 'string' },
        port: { type: 'string' },
        rest_api_port: { type: 'string' },
        host: { type: 'string' },
        model_name: { type: 'string' },
        model_base_path: { type: 'string' },
        file_system_poll_wait_seconds: { type: 'string' },
        log_level: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ConfigError('flags', [(err as Error).message]);
  }
  const str = (k: string) => values[k] as string | undefined;
  const logLevel = str('log_level');
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new ConfigError('flags', [`--log_level must be one of ${LOG_LEVELS.join(', ')}`]);
  return {
    config: str('config'),
    modelConfigFile: str('model_config_file'),
    port: intFlag('port', str('port'), -1),
    restApiPort: intFlag('rest_api_port', str('rest_api_port'), -1),
    host: str('host'),
    modelName: str('model_name'),
    modelBasePath: str('model_base_path'),
    fileSystemPollWaitSeconds: numberFlag(
      'file_system_poll_wait_seconds',
      str('file_system_poll_wait_seconds'),
    ),
    modelConfigFilePollWaitSeconds: numberFlag(
      'model_config_file_poll_wait_seconds',
      str('model_config_file_poll_wait_seconds'),
    ),
    logLevel,
    help: values.help === true,
  };
}

/** Applies flag overrides onto a raw (unvalidated) config object. */
function applyFlags(raw: Record<string, unknown>, flags: Flags, cwd: string): void {
  raw.server ??= {};
  const server = raw.server as Record<string, unknown>;
  if (flags.port !== undefined) server.grpc_port = flags.port;
  if (flags.restApiPort !== undefined) server.rest_api_port = flags.restApiPort;
  if (flags.host !== undefined) server.host = flags.host;
  if (flags.logLevel !== undefined) server.log_level = flags.logLevel;
  if (flags.fileSystemPollWaitSeconds !== undefined) {
    server.file_system_poll_wait_seconds = flags.fileSystemPollWaitSeconds;
  }
  if (flags.modelConfigFilePollWaitSeconds !== undefined) {
    server.model_config_file_poll_wait_seconds = flags.modelConfigFilePollWaitSeconds;
  }
  if (flags.modelName !== undefined || flags.modelBasePath !== undefined) {
    if (!flags.modelName || !flags.modelBasePath) {
      throw new ConfigError('flags', ['--model_name and --model_base_path must be given together']);
    }
    raw.models ??= [];
    const models = raw.models as unknown[];
    models.push({ name: flags.modelName, base_path: path.resolve(cwd, flags.modelBasePath) });
  }
}

/**
 * The server config for a command line: `--config` YAML (if any) with flags applied on top.
 * `--model_config_file` is returned separately by the caller (it replaces the model list).
 */
export function configFromFlags(flags: Flags, cwd = process.cwd()): ServerConfig {
  let config: ServerConfig;
  if (flags.config) {
    config = loadConfigFile(path.resolve(cwd, flags.config), (raw) => applyFlags(raw, flags, cwd));
  } else {
    if (!flags.modelName && !flags.modelConfigFile) {
      throw new ConfigError('flags', [
        'give --config, --model_config_file, or --model_name with --model_base_path',
      ]);
    }
    const raw: Record<string, unknown> = {};
    applyFlags(raw, flags, cwd);
    config = buildConfig(raw, 'flags', cwd);
  }
  if (!flags.modelConfigFile) return config;
  if (flags.modelName)
    throw new ConfigError('flags', ['--model_config_file and --model_name cannot be combined']);
  const configFile = path.resolve(cwd, flags.modelConfigFile);
  const models = loadModelServerConfigFile(configFile, config.modelDefaults);
  return deepFreeze({ ...config, models, configFile });
}

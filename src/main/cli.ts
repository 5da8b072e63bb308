#!/usr/bin/env node
import { ConfigError } from './config/config-error.js';
import { type Flags, parseFlags, resolveCommandLine, USAGE } from './config/flags.js';
import type { ServerConfig } from './config/server-config.js';
import { packageVersion } from './grpc/grpc-protos.js';
import { ConfigReloader } from './lifecycle/config-reloader.js';
import { reloadOnSighup } from './lifecycle/reload-signal.js';
import { createLogger } from './logging/create-logger.js';
import { TensorServe } from './server.js';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  if (flags.version) {
    console.log(`TensorServe ModelServer: ${packageVersion()}`);
    return;
  }
  const { config, warnings, env } = resolveCommandLine(flags);
  for (const [name, value] of Object.entries(env)) process.env[name] ??= value;
  const logger = createLogger(config.logLevel);
  for (const line of warnings) logger.warn(line);
  const server = await TensorServe.start(config, { logger });
  watchConfig(server, flags, config);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    server.logger.info({ signal }, 'draining');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/**
 * Hot reload: the whole command line is read again (flags still win over the YAML) every
 * `server.config_file_poll_wait_seconds` when there is a --config YAML, and on SIGHUP.
 */
function watchConfig(server: TensorServe, flags: Flags, config: ServerConfig): void {
  const reloader = new ConfigReloader({
    current: config,
    read: () => resolveCommandLine(flags).config,
    apply: (next, current) => server.reloadConfig(next, current),
    intervalMs: flags.config ? config.configFilePollIntervalMs : 0,
    logger: server.logger,
    source: flags.config ?? 'flags',
  });
  reloader.start();
  reloadOnSighup(() => void reloader.reload('signal'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    console.error('Run with --help for the flags.');
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});

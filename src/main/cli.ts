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
  // The ports listen at once; models load behind them while readiness is false.
  const server = await TensorServe.start(config, { logger, waitForModels: false });
  watchConfig(server, flags, config);
  installSignalHandlers(server);
}

/** Exit status of a second signal, by the shell's convention (128 + signal number). */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Time unloading may take after the drain deadline before the process exits regardless. */
const UNLOAD_GRACE_MS = 500;

/**
 * SIGTERM and SIGINT start the graceful shutdown (server.shutdown); the process exits 0 when
 * it completes. A second signal exits at once. If unloading overruns the drain deadline by
 * UNLOAD_GRACE_MS, the process exits 1 anyway, so the bound holds whatever a runtime does.
 */
function installSignalHandlers(server: TensorServe): void {
  let closing = false;
  const onSignal = (signal: string) => {
    if (closing) {
      server.logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(SIGNAL_EXIT[signal] ?? 1);
    }
    closing = true;
    const hardStop = setTimeout(() => {
      server.logger.error({ signal }, 'shutdown: unloading overran the drain timeout; exiting');
      process.exit(1);
    }, server.config.drainTimeoutMs + UNLOAD_GRACE_MS);
    hardStop.unref();
    server.shutdown(signal).then(
      (report) => {
        server.logger.info({ signal, elapsed_ms: report.durationMs }, 'shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
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

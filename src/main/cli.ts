#!/usr/bin/env node
import { ConfigError } from './config/config-error.js';
import { parseFlags, resolveCommandLine, USAGE } from './config/flags.js';
import { packageVersion } from './grpc/grpc-protos.js';
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

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    console.error('Run with --help for the flags.');
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});

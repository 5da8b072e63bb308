#!/usr/bin/env node
import { ConfigError } from './config/config-error.js';
import { configFromFlags, parseFlags, USAGE } from './config/flags.js';
import { TensorServe } from './server.js';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const config = configFromFlags(flags);
  const server = await TensorServe.start(config);
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
    console.error(USAGE);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});

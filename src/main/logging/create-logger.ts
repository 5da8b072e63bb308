import { type DestinationStream, type Logger, pino } from 'pino';
import { capLogFields, capString } from './log-field-cap.js';

/**
 * Header paths pino censors wherever a request's headers end up in a log line. tensorserve
 * never logs headers or bodies itself; this guards serializers and future log calls.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'metadata.authorization',
  'metadata["x-api-key"]',
];

/**
 * The server's logger: pino JSON lines (one object per line) with `service: tensorserve`,
 * at `level`, written to `destination` (stdout when absent), with API keys redacted and
 * every string field and message capped (log-field-cap.ts), so no client can inflate a line.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'tensorserve' },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    formatters: { log: (obj: Record<string, unknown>) => capLogFields(obj) },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        for (let i = 0; i < args.length; i++)
          if (typeof args[i] === 'string') args[i] = capString(args[i] as string);
        method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

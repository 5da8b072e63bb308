import { type DestinationStream, type Logger, pino } from 'pino';

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
 * at `level`, written to `destination` (stdout when absent), with API keys redacted.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'tensorserve' },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The slice of a pino logger the lifecycle writes to (a pino `Logger` fits). Structured
 * fields first, message second.
 */
export interface LifecycleLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Default: discard everything. */
export const silentLogger: LifecycleLogger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};

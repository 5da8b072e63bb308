/** The slice of a logger (pino fits) the runtimes report their choices to. */
export interface RuntimeLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * The runtimes' default logger (they run in worker threads, away from the server's pino):
 * pino-shaped JSON lines on stdout, so the server's output stays one JSON object per line.
 */
export const consoleLogger: RuntimeLogger = {
  info: (msg) => writeJsonLine(30, msg),
  warn: (msg) => writeJsonLine(40, msg),
};

let minLevel = 30;

/** Sets the lowest pino level number `consoleLogger` writes (the server's log level). */
export function setConsoleLogLevel(level: number): void {
  minLevel = level;
}

function writeJsonLine(level: number, msg: string): void {
  if (level < minLevel) return;
  process.stdout.write(
    `${JSON.stringify({ level, time: Date.now(), service: 'tensorserve', thread: 'worker', msg })}\n`,
  );
}

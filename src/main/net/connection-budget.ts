import { readFileSync } from 'node:fs';

/** File descriptors kept free for everything that is not a client connection (models, workers, logs). */
export const FD_RESERVE = 256;

/**
 * The cap on client connections shared by the REST and gRPC front ends, so that many idle or
 * slow clients cannot exhaust the process's file descriptors and lock every other client out
 * (a connection over the cap is answered and closed instead). Owned by the server; the front
 * ends call `tryTake` when a connection opens and `release` exactly once when it closes.
 */
export class ConnectionBudget {
  #open = 0;

  /** `max` 0 = no cap. */
  constructor(readonly max: number) {}

  /** Connections currently counted. */
  get open(): number {
    return this.#open;
  }

  /** Counts a new connection; false (nothing counted) when the cap is reached. */
  tryTake(): boolean {
    if (this.max > 0 && this.#open >= this.max) return false;
    this.#open++;
    return true;
  }

  release(): void {
    if (this.#open > 0) this.#open--;
  }
}

/**
 * The connection cap to enforce: the configured one, lowered to the process's soft limit on
 * open files minus FD_RESERVE when that is smaller (Linux; elsewhere the configured one).
 * `lowered` says whether it was lowered, so the server can log it.
 */
export function effectiveMaxConnections(
  configured: number,
  fdSoftLimit: number | undefined,
): { max: number; lowered: boolean; fdSoftLimit: number | undefined } {
  if (fdSoftLimit === undefined) return { max: configured, lowered: false, fdSoftLimit };
  const ceiling = Math.max(16, fdSoftLimit - FD_RESERVE);
  if (configured === 0 || configured > ceiling) return { max: ceiling, lowered: true, fdSoftLimit };
  return { max: configured, lowered: false, fdSoftLimit };
}

/** The soft RLIMIT_NOFILE from /proc/self/limits; undefined when unknown or unlimited. */
export function readFdSoftLimit(): number | undefined {
  try {
    const text = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (m === null || m[1] === 'unlimited') return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

/**
 * A child process of a load test or cluster test: the tail of its output is kept for
 * failure messages, and it is SIGKILLed if this process exits first (no stray servers or
 * balancers left listening after a crashed run).
 */
export interface WatchedChild {
  readonly child: ChildProcess;
  /** The last 4000 characters of its stdout and stderr together. */
  tail(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** Resolves to its exit code (null when a signal ended it) once it has exited. */
  readonly exit: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves to the exit code. A no-op once exited. */
  stop(graceMs: number): Promise<number | null>;
  /** SIGKILL; resolves once it has exited. */
  kill(): Promise<void>;
}

const TAIL_CHARS = 4000;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Spawns `command args` with stdout and stderr piped into the kept tail. */
export function spawnWatched(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): WatchedChild {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      live.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    tail: () => tail,
    exited: () => exited,
    exit,
    async stop(graceMs) {
      if (exited) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}

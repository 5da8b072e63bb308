import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnWatched } from './watched-child.js';

/** Directory of the compiled load-tests (e.g. `dist/load-tests`); siblings are found from here. */
export const LOAD_TESTS_DIR = path.dirname(fileURLToPath(import.meta.url));
/** Build output root that holds `src/` and `load-tests/` (e.g. `dist`). */
export const BUILD_ROOT = path.dirname(LOAD_TESTS_DIR);
/** The tensorserve CLI compiled beside these load tests. */
export const TENSORSERVE_CLI = path.join(BUILD_ROOT, 'src', 'main', 'cli.js');

/** Repository root: the nearest folder above the compiled module that holds package.json. */
export const REPO_ROOT = findRoot(LOAD_TESTS_DIR);

function findRoot(dir: string): string {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
  }
  throw new Error(`no package.json above ${dir}`);
}

/** A free TCP port on 127.0.0.1, found by listening on port 0 and closing again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A server running as a child process of the load generator. `stop()` is idempotent. */
export interface ServerProcess {
  readonly name: string;
  readonly restUrl: string;
  /** `host:port`, or undefined when the server has no gRPC port. */
  readonly grpcAddress: string | undefined;
  readonly pid: number;
  /** The child's last output lines (stdout and stderr), for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface SpawnServerOptions {
  readonly name: string;
  /** Node script and its arguments. */
  readonly script: string;
  readonly args: readonly string[];
  readonly restPort: number;
  readonly grpcPort?: number;
  /** Path polled until it answers 200. */
  readonly readyPath: string;
  readonly readyTimeoutMs?: number;
  /** Extra node flags (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  readonly cwd?: string;
}

/**
 * Spawns `node <script> <args>` and resolves once `GET <readyPath>` answers 200. Rejects
 * (and kills the child) when it exits first or does not get ready in time.
 */
export async function spawnServer(o: SpawnServerOptions): Promise<ServerProcess> {
  const watched = spawnWatched(process.execPath, [...(o.nodeArgs ?? []), o.script, ...o.args], {
    cwd: o.cwd ?? REPO_ROOT,
  });
  const { child, tail, exited } = watched;
  const restUrl = `http://127.0.0.1:${o.restPort}`;
  const stop = async () => {
    await watched.stop(10_000);
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited()) throw new Error(`${o.name} exited before it was ready:\n${tail()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${o.name} was not ready within ${o.readyTimeoutMs ?? 60_000} ms:\n${tail()}`);
    }
    try {
      const res = await fetch(restUrl + o.readyPath);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: o.name,
    restUrl,
    grpcAddress: o.grpcPort === undefined ? undefined : `127.0.0.1:${o.grpcPort}`,
    pid: child.pid ?? -1,
    output: tail,
    stop,
  };
}

/** How a tensorserve child process is started. */
export interface TensorServeStartOptions {
  readonly name?: string;
  readonly nodeArgs?: readonly string[];
  readonly cwd?: string;
  /** The CLI script to run; defaults to TENSORSERVE_CLI (another build's, for before/after runs). */
  readonly cli?: string;
}

/** Starts tensorserve (`cli.js --config <yaml>`) on free ports, ready when /v2/health/ready is 200. */
export function startTensorServe(
  configPath: string,
  opts: TensorServeStartOptions = {},
): Promise<ServerProcess> {
  return startTensorServeWithArgs(['--config', configPath], opts);
}

/**
 * Starts tensorserve with `args` (model flags or `--config`) on free 127.0.0.1 ports, ready
 * when /v2/health/ready is 200.
 */
export async function startTensorServeWithArgs(
  args: readonly string[],
  opts: TensorServeStartOptions = {},
): Promise<ServerProcess> {
  const restPort = await freePort();
  const grpcPort = await freePort();
  return spawnServer({
    name: opts.name ?? 'tensorserve',
    script: opts.cli ?? TENSORSERVE_CLI,
    args: [...args, '--rest_api_port', String(restPort), '--port', String(grpcPort), '--host', '127.0.0.1'],
    restPort,
    grpcPort,
    readyPath: '/v2/health/ready',
    ...(opts.nodeArgs ? { nodeArgs: opts.nodeArgs } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
}

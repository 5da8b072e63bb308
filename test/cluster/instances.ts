import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnWatched, type WatchedChild } from '../../load-tests/watched-child.js';
import { serverConfigSchema } from '../../src/main/config/schema.js';
import { MODELS_DIR, REPO_ROOT } from '../fixtures/repo-root.js';
import { stablePort as clusterPort } from '../fixtures/stable-port.js';

/** The tensorserve CLI compiled beside these tests. */
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'main', 'cli.js');

const SERVER_KEYS = serverConfigSchema.properties.server.properties as Record<string, unknown>;
/** Whether this build has the graceful-drain settings (issue 9): `server.shutdown_delay_ms`, `server.grpc`. */
export const HAS_SHUTDOWN_DELAY = 'shutdown_delay_ms' in SERVER_KEYS;
export const HAS_GRPC_MAX_AGE = 'grpc' in SERVER_KEYS;

/** Timings of every instance of the cluster tests (docs/deploy.md gives the production ones). */
export const TIMINGS = {
  /** Longer than the balancer's checks take to mark an instance down (HAProxy: inter 1s x fall 2). */
  shutdownDelayMs: 3000,
  drainTimeoutMs: 15_000,
  pollSeconds: 1,
  grpcMaxConnectionAgeMs: 3000,
  grpcMaxConnectionAgeGraceMs: 2000,
} as const;

/** A free TCP port on 127.0.0.1 below the ephemeral range (fixtures/stable-port.ts; balancers.ts imports it from here). */
export { clusterPort };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** GET status, or 0 when nothing answers. */
export async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * A model repository on disk that several instances share (the volume of docs/deploy.md),
 * with its polled model list (TF Serving text format).
 */
export class ModelRepository {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'ts-cluster-'));
  readonly modelConfigFile = path.join(this.dir, 'models.config');

  constructor(readonly model = 'half_plus_two') {
    this.addVersion(1);
    writeFileSync(
      this.modelConfigFile,
      `model_config_list {\n  config {\n    name: "${model}"\n    base_path: "${path.join(this.dir, model)}"\n    model_platform: "onnx"\n  }\n}\n`,
    );
  }

  /** Drops models/<model>/1 in as `version`, atomically (copied aside, then renamed into place). */
  addVersion(version: number): void {
    const base = path.join(this.dir, this.model);
    mkdirSync(base, { recursive: true });
    const aside = path.join(base, `.incoming-${version}`);
    cpSync(path.join(MODELS_DIR, this.model, '1'), aside, { recursive: true });
    renameSync(aside, path.join(base, String(version)));
  }

  /** Overwrites a version's model file with bytes no runtime accepts. */
  corrupt(version: number): void {
    writeFileSync(path.join(this.dir, this.model, String(version), 'model.onnx'), 'not an onnx model\n');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Per-instance settings that differ from TIMINGS. */
export interface InstanceOptions {
  /** `server.grpc.max_connection_age_ms`; 0 = off. Default TIMINGS.grpcMaxConnectionAgeMs. */
  readonly grpcMaxConnectionAgeMs?: number;
  /** `server.grpc.listen_when_ready` (default false). */
  readonly grpcListenWhenReady?: boolean;
}

/** One instance's server config: the YAML of docs/deploy.md, with the test timings. */
function serverYaml(o: InstanceOptions): string {
  const t = TIMINGS;
  const lines = [
    'server:',
    '  host: 127.0.0.1',
    `  file_system_poll_wait_seconds: ${t.pollSeconds}`,
    `  model_config_file_poll_wait_seconds: ${t.pollSeconds}`,
    `  drain_timeout_ms: ${t.drainTimeoutMs}`,
    '  access_log_sample_rate: 0',
    '  log_level: warn',
  ];
  if (HAS_SHUTDOWN_DELAY) lines.push(`  shutdown_delay_ms: ${t.shutdownDelayMs}`);
  if (HAS_GRPC_MAX_AGE) {
    lines.push(
      '  grpc:',
      `    max_connection_age_ms: ${o.grpcMaxConnectionAgeMs ?? t.grpcMaxConnectionAgeMs}`,
      `    max_connection_age_grace_ms: ${t.grpcMaxConnectionAgeGraceMs}`,
    );
    if (o.grpcListenWhenReady) lines.push('    listen_when_ready: true');
  }
  lines.push(
    'devices:',
    '  cpu:',
    '    workers: 1',
    'model_defaults:',
    '  load_retries: 0',
    '  batching: { max_batch_size: 8, batch_timeout_micros: 500 }',
  );
  return `${lines.join('\n')}\n`;
}

/** A tensorserve process on fixed 127.0.0.1 ports, restartable on the same ports. */
export class Instance {
  private proc: WatchedChild | undefined;
  /** The output tail of the latest run, kept after it exited. */
  private lastOutput: () => string = () => '';
  private readonly configFile: string;

  private constructor(
    readonly name: string,
    readonly restPort: number,
    readonly grpcPort: number,
    readonly repository: ModelRepository,
    options: InstanceOptions,
  ) {
    this.configFile = path.join(repository.dir, `${name}.yaml`);
    writeFileSync(this.configFile, serverYaml(options));
  }

  static async create(
    name: string,
    repository: ModelRepository,
    options: InstanceOptions = {},
  ): Promise<Instance> {
    return new Instance(name, await clusterPort(), await clusterPort(), repository, options);
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.restPort}`;
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get running(): boolean {
    return this.proc !== undefined && !this.proc.exited();
  }

  /** The process's last output, for failure messages. */
  output(): string {
    return this.lastOutput();
  }

  /** Starts the process (as docs/deploy.md runs one); resolves once it has spawned. */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.proc = spawnWatched(
      process.execPath,
      [
        CLI,
        '--config',
        this.configFile,
        '--model_config_file',
        this.repository.modelConfigFile,
        '--rest_api_port',
        String(this.restPort),
        '--port',
        String(this.grpcPort),
      ],
      { cwd: REPO_ROOT },
    );
    this.lastOutput = this.proc.tail;
  }

  /** Starts it and waits until /v2/health/ready answers 200. */
  async startReady(timeoutMs = 60_000): Promise<void> {
    this.start();
    await this.waitReady(timeoutMs);
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      async () => {
        if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.output()}`);
        return (await this.ready()) === 200;
      },
      `${this.name} ready`,
      timeoutMs,
    );
  }

  /** Status of /v2/health/ready (0 when nothing listens). */
  ready(): Promise<number> {
    return statusOf(`${this.restUrl}/v2/health/ready`);
  }

  /** SIGTERM, then waits for the exit; resolves to the exit code (null when not running). */
  async stop(): Promise<number | null> {
    if (!this.running || !this.proc) return null;
    return this.proc.stop(TIMINGS.drainTimeoutMs + 10_000);
  }

  /** SIGKILL, then waits for the exit. */
  async kill(): Promise<void> {
    if (this.running) await this.proc?.kill();
  }
}

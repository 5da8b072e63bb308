/**
 * The servers the one-shot benchmarks compare, each started as a child process on free
 * 127.0.0.1 ports: the naive peer server and tensorserve from a config written to a temp dir.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePort,
  LOAD_TESTS_DIR,
  REPO_ROOT,
  type ServerProcess,
  spawnServer,
  startTensorServe,
  startTensorServeWithArgs,
} from './server-process.js';

/** Thread settings shared by every server of one run, so the comparison is like for like. */
export interface ThreadSettings {
  /** onnxruntime intraOpNumThreads of every session (naive, tensorserve workers, ceiling). */
  readonly intraOpThreads: number;
  /** tensorserve's CPU pool worker threads (the naive server runs inference on its main thread). */
  readonly workers: number;
}

/** Batching of one tensorserve model; `maxBatchSize: 1` is batching off. */
export interface BatchingSettings {
  readonly maxBatchSize: number;
  readonly batchTimeoutMicros: number;
}

/** One model as tensorserve serves it: name and a TF Serving style base path (`<base>/<version>/model.onnx`). */
export interface ServedModel {
  readonly name: string;
  readonly basePath: string;
  readonly batching: BatchingSettings;
}

/** Starts the naive peer server (naive-server.ts) on `modelFile`; ready on GET /readyz. */
export async function startNaive(modelFile: string, threads: ThreadSettings): Promise<ServerProcess> {
  const port = await freePort();
  return spawnServer({
    name: 'naive',
    script: path.join(LOAD_TESTS_DIR, 'naive-server.js'),
    args: ['--model', modelFile, '--port', String(port), '--threads', String(threads.intraOpThreads)],
    restPort: port,
    readyPath: '/readyz',
  });
}

/**
 * Writes a tensorserve config (JSON, which is YAML) for `models` into `dir` and starts the
 * server on it. `extra` is merged into the config's top level (tenants, admin_keys, ...), `modelExtra`
 * into every model entry; `cli` runs another build's CLI (default: this build's).
 */
export async function startTensorServeWith(
  dir: string,
  name: string,
  models: readonly ServedModel[],
  threads: ThreadSettings,
  extra: Record<string, unknown> = {},
  modelExtra: Record<string, unknown> = {},
  cli?: string,
): Promise<ServerProcess> {
  const config = {
    // poll 0: load the versions once, no background polling during the measurement
    server: { host: '127.0.0.1', log_level: 'warn', file_system_poll_wait_seconds: 0 },
    devices: { cpu: { workers: threads.workers, intra_op_threads: threads.intraOpThreads } },
    models: models.map((m) => ({
      name: m.name,
      base_path: path.resolve(m.basePath),
      batching: {
        max_batch_size: m.batching.maxBatchSize,
        batch_timeout_micros: m.batching.batchTimeoutMicros,
      },
      ...modelExtra,
    })),
    ...extra,
  };
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return startTensorServe(file, cli === undefined ? { name } : { name, cli });
}

/**
 * tensorserve of one build serving the example CNN as issue 11's latency benchmarks do
 * (`max_batch_size` 32, `batch_timeout_micros` 1000, `workers` CPU workers of one thread),
 * from a config written to `dir` as `<name>.json`. `buildRoot` is that build's output folder
 * (holding `src/main/cli.js`); the server runs in the folder above it.
 */
export function startCnnBuild(
  buildRoot: string,
  name: string,
  dir: string,
  workers: number,
): Promise<ServerProcess> {
  const config = {
    server: { host: '127.0.0.1', log_level: 'warn', file_system_poll_wait_seconds: 0 },
    devices: { cpu: { workers, intra_op_threads: 1 } },
    models: [
      {
        name: 'cnn',
        base_path: path.join(REPO_ROOT, 'models', 'cnn'),
        batching: { max_batch_size: 32, batch_timeout_micros: 1000 },
      },
    ],
  };
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return startTensorServeWithArgs(['--config', file], {
    name,
    cli: path.join(buildRoot, 'src', 'main', 'cli.js'),
    cwd: path.dirname(buildRoot),
  });
}

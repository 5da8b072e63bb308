/**
 * perf_analyzer-style concurrency sweep against tensorserve (issue 6).
 *
 *   node dist/load-tests/runner.js --config config/server.yaml --model cnn \
 *     --protocol rest-json|v2-json|v2-binary|grpc-predict|grpc-infer \
 *     --concurrency 1,4,16,64,256 --duration 3
 *   node dist/load-tests/runner.js --url http://127.0.0.1:8501 --grpc 127.0.0.1:8500 --model m ...
 *   npm run loadtest -- --model-path /path/to/my_model [--model-name my_model]
 *
 * With --config or --model-path (a TF Serving-style base path: version directories with
 * model.onnx / model.json) it starts the server as a child process on free ports and stops
 * it at the end; with --url it loads an already running local server. The request comes from the
 * model's metadata (random batch-1 inputs; --shape name=d0,d1,... for variable dims) or
 * from --input <KServe v2 JSON request>. Progress goes to stderr, the table to stdout, and
 * JSON / markdown / SVG files to --out (default load-tests/results/).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scrape, serverStats } from './prometheus.js';
import { type ProtocolLoad, protocolLoad, type Target } from './protocol-load.js';
import {
  type InputTensor,
  inputsFromMetadata,
  inputsFromV2Json,
  type ModelMetadata,
  PROTOCOLS,
  type Protocol,
} from './scenarios.js';
import {
  REPO_ROOT,
  type ServerProcess,
  startTensorServe,
  startTensorServeWithArgs,
} from './server-process.js';
import { type SweepPoint, type SweepRecord, sweepTextTable, writeSweep } from './sweep-output.js';

export interface SweepOptions {
  readonly model: string;
  readonly protocol: Protocol;
  readonly concurrency: readonly number[];
  readonly durationS: number;
  /** Load before the first measured point, seconds (default 1). */
  readonly warmupS?: number;
  readonly target: Target;
  /** Request inputs; by default random ones built from the model's metadata. */
  readonly inputs?: readonly InputTensor[];
  /** Full shapes for inputs with variable non-batch dims. */
  readonly shapes?: ReadonlyMap<string, readonly number[]>;
  /**
   * Called with one line per finished point and, while a point runs, about once a second
   * with its elapsed time and the requests the server has completed so far (the CLI prints
   * them on stderr).
   */
  readonly progress?: (line: string) => void;
}

const SUCCESS = 'nv_inference_request_success';

/** Reports a running point once a second until the returned stop function is called. */
function progressTicker(
  o: SweepOptions,
  concurrency: number,
  before: Awaited<ReturnType<typeof scrape>>,
): () => void {
  const progress = o.progress;
  if (progress === undefined) return () => {};
  const started = performance.now();
  let stopped = false;
  const timer = setInterval(() => {
    void scrape(o.target.restUrl, o.model).then((now) => {
      if (stopped) return;
      const elapsed = ((performance.now() - started) / 1000).toFixed(0);
      const done = now?.has(SUCCESS) ? (now.get(SUCCESS) ?? 0) - (before?.get(SUCCESS) ?? 0) : undefined;
      progress(
        `  concurrency ${concurrency}: ${elapsed}/${o.durationS} s` +
          (done === undefined ? '' : `, ${done} requests so far`),
      );
    });
  }, 1000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Fetches `GET /v2/models/<m>` from the target. */
export async function modelMetadata(restUrl: string, model: string): Promise<ModelMetadata> {
  const res = await fetch(`${restUrl}/v2/models/${encodeURIComponent(model)}`);
  const body = (await res.json()) as ModelMetadata & { error?: string };
  if (res.status !== 200) throw new Error(`GET /v2/models/${model}: ${res.status} ${body.error ?? ''}`);
  return body;
}

/** Runs one warm-up and then one load point per concurrency level; returns the record. */
export async function runSweep(o: SweepOptions): Promise<SweepRecord> {
  const inputs = o.inputs ?? inputsFromMetadata(await modelMetadata(o.target.restUrl, o.model), o.shapes);
  const load: ProtocolLoad = protocolLoad(o.protocol, o.target, o.model, inputs);
  await load.check();
  const startedAt = new Date().toISOString();
  const warmup = o.warmupS ?? 1;
  if (warmup > 0) await load.run(o.concurrency[0], warmup);
  const points: SweepPoint[] = [];
  for (const concurrency of o.concurrency) {
    const before = await scrape(o.target.restUrl, o.model);
    const stopTicker = progressTicker(o, concurrency, before);
    let result: Awaited<ReturnType<ProtocolLoad['run']>>;
    try {
      result = await load.run(concurrency, o.durationS);
    } finally {
      stopTicker();
    }
    const after = await scrape(o.target.restUrl, o.model);
    const point = { ...result, server: serverStats(before, after) };
    points.push(point);
    o.progress?.(
      `concurrency ${concurrency}: ${result.throughput.toFixed(1)} infer/s, p99 ${result.latencyMs.p99.toFixed(2)} ms` +
        (result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : ''),
    );
  }
  return {
    model: o.model,
    protocol: o.protocol,
    target: o.protocol.startsWith('grpc') ? (o.target.grpcAddress ?? '') : o.target.restUrl,
    durationS: o.durationS,
    requestBytes: load.requestBytes,
    startedAt,
    node: process.version,
    points,
  };
}

interface CliArgs {
  config?: string;
  modelPath?: string;
  url?: string;
  grpc?: string;
  model: string;
  protocol: Protocol;
  concurrency: number[];
  duration: number;
  warmup: number;
  input?: string;
  shapes: Map<string, number[]>;
  out: string;
  name?: string;
  modelName?: string;
}

export const RUNNER_USAGE = `Usage: runner.js (--config <yaml> | --model-path <dir> [--model-name <name>]
                  | --url http://127.0.0.1:<port> [--grpc 127.0.0.1:<port>])
  --model <name> (default: --model-name) [--protocol ${PROTOCOLS.join('|')}] [--concurrency 1,4,16,64,256]
  [--duration 3] [--warmup 1] [--input <v2 request.json>] [--shape <input>=<d0,d1,...>]...
  [--out load-tests/results] [--name <file base name>]`;

export function parseRunnerArgs(argv: readonly string[]): CliArgs {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${RUNNER_USAGE}`);
    const eq = a.indexOf('=');
    const [key, value] = eq > 0 ? [a.slice(2, eq), a.slice(eq + 1)] : [a.slice(2), argv[++i]];
    if (value === undefined) throw new Error(`--${key} needs a value\n${RUNNER_USAGE}`);
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  const one = (k: string) => values.get(k)?.at(-1);
  const modelPath = one('model-path');
  const modelName = one('model-name') ?? (modelPath ? path.basename(path.resolve(modelPath)) : undefined);
  const model = one('model') ?? modelName;
  if (!model) throw new Error(`--model is required\n${RUNNER_USAGE}`);
  if ([one('config'), one('url'), modelPath].filter((v) => v !== undefined).length !== 1)
    throw new Error(`give exactly one of --config, --model-path and --url\n${RUNNER_USAGE}`);
  if (one('model-name') !== undefined && !modelPath) throw new Error('--model-name needs --model-path');
  const protocol = (one('protocol') ?? 'rest-json') as Protocol;
  if (!PROTOCOLS.includes(protocol)) throw new Error(`--protocol must be one of ${PROTOCOLS.join(', ')}`);
  const concurrency = (one('concurrency') ?? '1,4,16,64,256').split(',').map(Number);
  if (concurrency.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error('--concurrency must be a comma-separated list of positive integers');
  const duration = Number(one('duration') ?? '3');
  if (!(duration > 0 && duration <= 600)) throw new Error('--duration must be in (0, 600] seconds');
  const url = one('url');
  if (url && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/?$/.test(url))
    throw new Error('--url must be a local server: http://127.0.0.1:<port>');
  const grpcTarget = one('grpc');
  if (grpcTarget && !/^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(grpcTarget))
    throw new Error('--grpc must be a local server: 127.0.0.1:<port>');
  if (grpcTarget && !url) throw new Error('--grpc goes with --url (a started server has its own)');
  const shapes = new Map<string, number[]>();
  for (const s of values.get('shape') ?? []) {
    const [name, dims] = s.split('=');
    if (!name || !dims) throw new Error(`--shape ${s}: expected <input>=<d0,d1,...>`);
    shapes.set(name, dims.split(',').map(Number));
  }
  return {
    config: one('config'),
    ...(modelPath ? { modelPath: path.resolve(modelPath), modelName } : {}),
    url: url?.replace(/\/$/, ''),
    grpc: grpcTarget,
    model,
    protocol,
    concurrency,
    duration,
    warmup: Number(one('warmup') ?? '1'),
    input: one('input'),
    shapes,
    out: path.resolve(one('out') ?? path.join(REPO_ROOT, 'load-tests', 'results')),
    name: one('name'),
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(RUNNER_USAGE);
    return;
  }
  let args: CliArgs;
  try {
    args = parseRunnerArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  let server: ServerProcess | undefined;
  const stop = () => {
    void server?.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    let target: Target;
    if (args.config) {
      process.stderr.write(`starting tensorserve --config ${args.config}\n`);
      server = await startTensorServe(path.resolve(args.config));
      target = { restUrl: server.restUrl, grpcAddress: server.grpcAddress };
    } else if (args.modelPath) {
      process.stderr.write(
        `starting tensorserve --model_name ${args.modelName ?? args.model} --model_base_path ${args.modelPath}\n`,
      );
      server = await startForModel(args.modelName ?? args.model, args.modelPath);
      target = { restUrl: server.restUrl, grpcAddress: server.grpcAddress };
    } else {
      target = { restUrl: args.url ?? '', ...(args.grpc ? { grpcAddress: args.grpc } : {}) };
    }
    const inputs = args.input ? inputsFromV2Json(JSON.parse(readFileSync(args.input, 'utf8'))) : undefined;
    process.stderr.write(
      `${args.model} over ${args.protocol}: concurrency ${args.concurrency.join(',')}, ${args.duration} s each\n`,
    );
    const record = await runSweep({
      model: args.model,
      protocol: args.protocol,
      concurrency: args.concurrency,
      durationS: args.duration,
      warmupS: args.warmup,
      target,
      shapes: args.shapes,
      ...(inputs ? { inputs } : {}),
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    console.log(sweepTextTable(record.points));
    const base = args.name ?? `${args.model}-${args.protocol}-${record.startedAt.replace(/[:.]/g, '-')}`;
    const files = writeSweep(args.out, base, record);
    process.stderr.write(`wrote ${files.json}\n      ${files.md}\n      ${files.svg}\n`);
  } finally {
    await server?.stop();
  }
}

/** Starts tensorserve for one model directory (`cli.js --model_name --model_base_path`) on free ports. */
export function startForModel(model: string, basePath: string): Promise<ServerProcess> {
  return startTensorServeWithArgs(['--model_name', model, '--model_base_path', basePath]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

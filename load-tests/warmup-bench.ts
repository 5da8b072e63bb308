/**
 * Issue 9's warmup benchmark: latency of the first requests after a version swap, with and
 * without warmup (models cnn and cnn_tfjs), and the time from `npm start` to ready, against
 * the old start (a full compile first) as the baseline, in the same run.
 *
 *   npm run bench:warmup -- [--swaps 3] [--requests 10] [--starts 2] [--no-start]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeWarmup } from '../scripts/make-warmup.js';
import { Flags, machineInfo, machineLine, publishResults, tempDir, withCleanup } from './bench-common.js';
import { freePort, REPO_ROOT, type ServerProcess, startTensorServe } from './server-process.js';
import { markdownTable, textTable } from './sweep-output.js';

const USAGE = `Usage: npm run bench:warmup -- [--swaps N] [--requests N] [--starts N] [--no-start]
  --swaps     version swaps per model and mode (default 3); figures are medians over swaps
  --requests  requests timed after each swap (default 10)
  --starts    timed starts of each kind (default 2)
  --no-start  skip the start-time part`;

const MODELS = ['cnn', 'cnn_tfjs'] as const;
const IMAGE = JSON.stringify({
  instances: [
    Array.from({ length: 28 }, (_, i) => Array.from({ length: 28 }, (_, j) => [((i * 28 + j) % 17) / 17])),
  ],
});

interface SwapRow {
  model: string;
  warmup: boolean;
  /** Median over swaps of each request's latency (ms), request 1 first. */
  firstMs: number[];
  /** Median over swaps of the mean of the first N. */
  meanFirstMs: number;
  /** Median latency of N requests to the same version once it has served a while (ms). */
  steadyMs: number;
  /** Median swap time: version dropped in → AVAILABLE (ms). */
  swapMs: number;
}

async function predictMs(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    body: IMAGE,
    headers: { 'content-type': 'application/json' },
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`predict answered ${res.status}`);
  return performance.now() - t;
}

async function waitAvailable(server: ServerProcess, model: string, version: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${server.restUrl}/v1/models/${model}`);
    const body = (await res.json()) as { model_version_status?: { version: string; state: string }[] };
    const s = body.model_version_status?.find((v) => v.version === String(version));
    if (s?.state === 'AVAILABLE') return;
    if (s?.state === 'END') throw new Error(`${model} version ${version} failed to load`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${model} version ${version} not AVAILABLE within 120 s`);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function swapRun(model: string, warmup: boolean, swaps: number, requests: number): Promise<SwapRow> {
  const tmp = tempDir(`ts-warmup-bench-${model}-`);
  const base = path.join(tmp.dir, model);
  const source = path.join(REPO_ROOT, 'models', model, '1');
  const drop = async (version: number) => {
    const staging = path.join(base, `.staging-${version}`);
    cpSync(source, staging, { recursive: true });
    if (warmup)
      await makeWarmup({
        modelDir: staging,
        requests: [],
        batchSizes: [1],
        data: 'random',
        dims: {},
        count: 1,
      });
    renameSync(staging, path.join(base, String(version)));
  };
  mkdirSync(base);
  await drop(1);
  const config = {
    server: { host: '127.0.0.1', log_level: 'warn', file_system_poll_wait_seconds: 0.05 },
    devices: { cpu: { workers: 1, intra_op_threads: 1 } },
    models: [{ name: model, base_path: base, enable_model_warmup: warmup }],
  };
  const file = path.join(tmp.dir, 'server.yaml');
  writeFileSync(file, JSON.stringify(config));
  const server = await startTensorServe(file, { name: `tensorserve-${model}-${warmup ? 'warm' : 'cold'}` });
  const url = `${server.restUrl}/v1/models/${model}:predict`;
  const perSwap: number[][] = [];
  const steady: number[] = [];
  const swapTimes: number[] = [];
  return withCleanup(
    async () => {
      for (let i = 0; i < 20; i++) await predictMs(url);
      for (let s = 0; s < swaps; s++) {
        const version = s + 2;
        const t = performance.now();
        await drop(version);
        await waitAvailable(server, model, version);
        swapTimes.push(performance.now() - t);
        const lat: number[] = [];
        for (let i = 0; i < requests; i++) lat.push(await predictMs(url));
        perSwap.push(lat);
        for (let i = 0; i < 20; i++) await predictMs(url);
        const settled: number[] = [];
        for (let i = 0; i < requests; i++) settled.push(await predictMs(url));
        steady.push(median(settled));
      }
      return {
        model,
        warmup,
        firstMs: Array.from({ length: requests }, (_, i) => median(perSwap.map((l) => l[i]))),
        meanFirstMs: median(perSwap.map((l) => l.reduce((a, b) => a + b, 0) / l.length)),
        steadyMs: median(steady),
        swapMs: median(swapTimes),
      };
    },
    async () => {
      await server.stop();
      tmp.dispose();
    },
  );
}

/** Spawns `command args` in its own process group; resolves ms until /v2/health/ready is 200. */
async function timeToReady(command: string, args: readonly string[], restPort: number): Promise<number> {
  const t = performance.now();
  const child: ChildProcess = spawn(command, args, { cwd: REPO_ROOT, stdio: 'ignore', detached: true });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => {
    exited = true;
  });
  try {
    for (;;) {
      if (exited) throw new Error(`${command} ${args.join(' ')} exited before it was ready`);
      if (performance.now() - t > 300_000) throw new Error('not ready within 300 s');
      try {
        const res = await fetch(`http://127.0.0.1:${restPort}/v2/health/ready`);
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - t;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    if (!exited && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await exit;
  }
}

async function startTimes(starts: number): Promise<{ kind: string; ms: number }[]> {
  const rows: { kind: string; ms: number }[] = [];
  const ports = async () => [
    `--rest_api_port=${await freePort()}`,
    `--port=${await freePort()}`,
    '--host=127.0.0.1',
  ];
  for (let i = 0; i < starts; i++) {
    // The old `npm start`: a full compile (into a scratch build directory), then the server.
    const p = await ports();
    const rest = Number(p[0].split('=')[1]);
    const old = `npx tsc -p tsconfig.json --outDir .build/bench-start && node .build/bench-start/src/main/cli.js --config config/server.yaml ${p.join(' ')}`;
    rows.push({
      kind: 'compile, then start (old npm start)',
      ms: await timeToReady('sh', ['-c', old], rest),
    });
    const q = await ports();
    rows.push({
      kind: 'npm start (prebuilt dist/)',
      ms: await timeToReady('npm', ['start', '--silent', '--', ...q], Number(q[0].split('=')[1])),
    });
  }
  return rows;
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const swaps = flags.num('swaps', 3);
  const requests = flags.num('requests', 10);
  const starts = flags.num('starts', 2);
  const machine = machineInfo();
  const rows: SwapRow[] = [];
  for (const model of MODELS) {
    for (const warmup of [false, true]) {
      process.stderr.write(`swap: ${model}, warmup ${warmup ? 'on' : 'off'}\n`);
      rows.push(await swapRun(model, warmup, swaps, requests));
    }
  }
  const startRows = flags.bool('start', true) ? await startTimes(starts) : [];
  const f = (x: number) => x.toFixed(1);
  const header = [
    'model',
    'warmup',
    'req 1 ms',
    'req 2 ms',
    'req 3 ms',
    `mean of ${requests} ms`,
    'steady ms',
    'req 1 / steady',
  ];
  const body = rows.map((r) => [
    r.model,
    r.warmup ? 'on' : 'off',
    f(r.firstMs[0]),
    f(r.firstMs[1] ?? Number.NaN),
    f(r.firstMs[2] ?? Number.NaN),
    f(r.meanFirstMs),
    f(r.steadyMs),
    `${(r.firstMs[0] / r.steadyMs).toFixed(1)}×`,
  ]);
  const startHeader = ['start', 'median ms to ready', 'runs'];
  const startBody = [...new Set(startRows.map((r) => r.kind))].map((kind) => {
    const ms = startRows.filter((r) => r.kind === kind).map((r) => r.ms);
    return [kind, f(median(ms)), ms.map(f).join(', ')];
  });
  const intro = `${machineLine(machine)}; ${swaps} swaps per row, medians over swaps; 1 worker, 1 intra-op thread`;
  const text = [intro, textTable(header, body), '', textTable(startHeader, startBody)].join('\n');
  const markdown = [
    `${intro}\n`,
    markdownTable(header, body),
    '',
    startBody.length ? markdownTable(startHeader, startBody) : '',
    '',
  ].join('\n');
  publishResults('warmup-bench', { machine, swaps, requests, rows, startRows }, text, markdown);
}

await main();

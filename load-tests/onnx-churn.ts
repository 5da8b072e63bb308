/**
 * `node dist/load-tests/onnx-churn.js` (after `npm run build`): does onnxruntime give memory
 * back when sessions are released? The churn of bench:many-models without the server: one
 * worker thread (as the server's workers) creates sessions of the example CNN, runs each once,
 * keeps the last `--live` and releases the oldest, `--loads` times; then releases all. Each
 * variant runs in its own child process (RSS is per process, malloc state per thread):
 * onnxruntime's CPU memory arena and memory pattern on (pinned models) and off (on-demand
 * models, README "Many models"). Prints RSS at each stage and the per-load RSS deltas (the
 * server's onnxruntime measurement) early and late in the churn.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { cnnWeights } from '../scripts/models/cnn-weights.js';
import { cnnOnnx } from '../scripts/models/onnx-models.js';
import { Flags, tempDir } from './bench-common.js';

const USAGE = 'usage: node dist/load-tests/onnx-churn.js [--loads 1600] [--live 50]';
const SELF = fileURLToPath(import.meta.url);
const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

interface Job {
  readonly file: string;
  readonly arena: boolean;
  readonly loads: number;
  readonly live: number;
}

async function churn(job: Job): Promise<string[]> {
  const ort = await import('onnxruntime-node');
  const rss = () => process.memoryUsage.rss();
  const lines: string[] = [];
  const options = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 4 as const,
    enableCpuMemArena: job.arena,
    enableMemPattern: job.arena,
  };
  const image = new ort.Tensor('float32', new Float32Array(784).fill(0.5), [1, 28, 28, 1]);
  // The runtime's one-time setup first, as the server's prime() does.
  const first = await ort.InferenceSession.create(job.file, options);
  await first.run({ image });
  await first.release();
  const start = rss();
  const live: Awaited<ReturnType<typeof ort.InferenceSession.create>>[] = [];
  const deltas: number[] = [];
  for (let i = 0; i < job.loads; i++) {
    const before = rss();
    const s = await ort.InferenceSession.create(job.file, options);
    await s.run({ image });
    deltas.push(rss() - before);
    live.push(s);
    if (live.length > job.live) await live.shift()?.release();
    if (i === job.live - 1) lines.push(`after the first ${job.live} loads: RSS ${MiB(rss())}`);
  }
  const end = rss();
  for (const s of live.splice(0)) await s.release();
  const released = rss();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const early = deltas.slice(0, job.live);
  const late = deltas.slice(-200);
  lines.push(
    `after ${job.loads} loads (${job.live} live): RSS ${MiB(end)}; all released: ${MiB(released)} (start ${MiB(start)})`,
    `RSS delta per load: first ${job.live} median ${(median(early) / 1024).toFixed(0)} KiB, ` +
      `last 200 median ${(median(late) / 1024).toFixed(0)} KiB mean ${(mean(late) / 1024).toFixed(0)} KiB`,
  );
  return lines;
}

if (!isMainThread) {
  parentPort?.postMessage(await churn(workerData as Job));
} else if (process.argv[2] === '--child') {
  const job = JSON.parse(process.argv[3]) as Job;
  const lines = await new Promise<string[]>((resolve, reject) => {
    const w = new Worker(SELF, { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
  });
  console.log(lines.join('\n'));
  process.exit(0);
} else {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const loads = flags.num('loads', 1600);
  const live = flags.num('live', 50);
  const tmp = tempDir('tensorserve-churn-');
  try {
    const file = path.join(tmp.dir, 'model.onnx');
    writeFileSync(file, cnnOnnx(cnnWeights()));
    for (const arena of [true, false]) {
      const job: Job = { file, arena, loads, live };
      const child = spawnSync(process.execPath, [SELF, '--child', JSON.stringify(job)], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`churn child failed: ${child.stderr}`);
      console.log(`CPU memory arena and memory pattern ${arena ? 'on' : 'off'}:`);
      console.log(child.stdout.trimEnd().replace(/^/gm, '  '));
    }
  } finally {
    tmp.dispose();
  }
}

/**
 * The engine ceiling: one in-process onnxruntime-node session, no server, no copies but the
 * input tensor's, samples/s at each batch size. Thread settings as the servers use them
 * (intraOpNumThreads 1 by default, interOpNumThreads 1, sequential).
 *
 *   node dist/load-tests/engine-ceiling.js [--model models/cnn/1/model.onnx] [--shape 28,28,1]
 *     [--threads 1] [--seconds 0.5]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { lcg } from './scenarios.js';
import { REPO_ROOT } from './server-process.js';

export interface CeilingPoint {
  readonly batchSize: number;
  readonly samplesPerS: number;
  /** Mean time of one run, ms. */
  readonly runMs: number;
}

export interface CeilingResult {
  readonly points: readonly CeilingPoint[];
  readonly best: CeilingPoint;
  readonly threads: number;
}

export interface CeilingOptions {
  readonly modelPath: string;
  /** Shape of one sample (the input's dims after the batch dim). */
  readonly rowShape: readonly number[];
  readonly batchSizes?: readonly number[];
  readonly threads?: number;
  /** Measuring time per batch size (after a short warm-up). */
  readonly secondsPerPoint?: number;
}

/** Measures samples/s per batch size for the model's first input (float32). */
export async function measureEngineCeiling(o: CeilingOptions): Promise<CeilingResult> {
  const threads = o.threads ?? 1;
  const session = await ort.InferenceSession.create(o.modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const inputName = session.inputNames[0];
  const rowSize = o.rowShape.reduce((a, b) => a * b, 1);
  const points: CeilingPoint[] = [];
  const rand = lcg(7);
  try {
    for (const batchSize of o.batchSizes ?? [1, 2, 4, 8, 16, 32, 64]) {
      const data = new Float32Array(batchSize * rowSize).map(() => rand());
      const feeds = { [inputName]: new ort.Tensor('float32', data, [batchSize, ...o.rowShape]) };
      for (let i = 0; i < 3; i++) await session.run(feeds);
      const budget = (o.secondsPerPoint ?? 0.5) * 1e9;
      const t0 = process.hrtime.bigint();
      let runs = 0;
      let elapsed = 0;
      while (elapsed < budget) {
        await session.run(feeds);
        runs++;
        elapsed = Number(process.hrtime.bigint() - t0);
      }
      points.push({
        batchSize,
        samplesPerS: (runs * batchSize) / (elapsed / 1e9),
        runMs: elapsed / 1e6 / runs,
      });
    }
  } finally {
    await session.release();
  }
  const best = points.reduce((a, b) => (b.samplesPerS > a.samplesPerS ? b : a));
  return { points, best, threads };
}

async function main(): Promise<void> {
  const get = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const result = await measureEngineCeiling({
    modelPath: path.resolve(get('model', path.join(REPO_ROOT, 'models/cnn/1/model.onnx'))),
    rowShape: get('shape', '28,28,1').split(',').map(Number),
    threads: Number(get('threads', '1')),
    secondsPerPoint: Number(get('seconds', '0.5')),
  });
  console.log(`engine ceiling (onnxruntime-node in-process, intraOpNumThreads ${result.threads})`);
  console.log('batch  samples/s  ms/run');
  for (const p of result.points)
    console.log(
      `${String(p.batchSize).padStart(5)}  ${p.samplesPerS.toFixed(0).padStart(9)}  ${p.runMs.toFixed(3).padStart(6)}`,
    );
  console.log(`best: ${result.best.samplesPerS.toFixed(0)} samples/s at batch ${result.best.batchSize}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

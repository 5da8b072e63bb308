/**
 * The hand-off to a worker thread and back, alone: piscina (one thread, as a WorkerSlot
 * runs it, with each of its `atomics` modes) against a bare worker_threads Worker echoing
 * over its parentPort, for a trivial task. Back to back, and with an idle gap before each
 * task (as at one connection, where the worker has gone to sleep between requests). It
 * bounds what one lone request pays to cross to the worker and back, beside the HTTP path
 * and the inference itself (bench:latency's one-connection rows).
 *
 *   node dist/load-tests/worker-roundtrip.js [--tasks 2000] [--gap-ms 1]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Flags, tempDir } from './bench-common.js';

const USAGE = 'Usage: node dist/load-tests/worker-roundtrip.js [--tasks 2000] [--gap-ms 1]';

const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)];

async function measure(
  send: (i: number) => Promise<unknown>,
  tasks: number,
  gapMs: number,
): Promise<number[]> {
  for (let i = 0; i < 100; i++) await send(i);
  const us: number[] = [];
  for (let i = 0; i < tasks; i++) {
    const t0 = performance.now();
    await send(i);
    us.push((performance.now() - t0) * 1000);
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return us;
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const tasks = flags.num('tasks', 2000);
  const gapMs = flags.num('gap-ms', 1);
  const tmp = tempDir('tensorserve-roundtrip-');
  const entry = path.join(tmp.dir, 'echo-task.mjs');
  writeFileSync(entry, 'export default function echo(x) { return x; }\n');
  const line = (name: string, gap: number, us: number[]) =>
    console.log(
      `${name.padEnd(26)} gap ${String(gap).padStart(2)} ms: round trip p50 ${percentile(us, 0.5).toFixed(0)} µs, p90 ${percentile(us, 0.9).toFixed(0)} µs`,
    );
  try {
    for (const atomics of ['sync', 'async', 'disabled'] as const) {
      const pool = new Piscina({
        filename: entry,
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Number.POSITIVE_INFINITY,
        concurrentTasksPerWorker: 1,
        atomics,
      });
      for (const gap of [0, gapMs])
        line(`piscina atomics=${atomics}`, gap, await measure((i) => pool.run(i), tasks, gap));
      await pool.destroy();
    }
    const worker = new Worker(
      "const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));",
      { eval: true },
    );
    const send = (i: number) =>
      new Promise((resolve) => {
        worker.once('message', resolve);
        worker.postMessage(i);
      });
    for (const gap of [0, gapMs]) line('worker_threads postMessage', gap, await measure(send, tasks, gap));
    await worker.terminate();
  } finally {
    tmp.dispose();
  }
}

await main();

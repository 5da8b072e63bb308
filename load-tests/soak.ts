/**
 * `npm run soak -- --minutes 10`: a long, mixed REST/gRPC load against tensorserve on the
 * example models, sampled in windows. Each window prints the server's RSS, V8 heap, open fds,
 * event-loop lag (p99, from the server's own metrics) and the p99 latency of each protocol.
 * Exits 1 when RSS grows more than `--max-growth` (default 5%) over the second half of the run
 * (last window against the first window of the second half), when any request fails, or
 * when the server dies. All traffic goes to a server this script starts on 127.0.0.1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Flags, machineInfo, machineLine, writeResults } from './bench-common.js';
import { runGrpcLoad } from './grpc-load.js';
import { LatencyRecorder, type LoadResult } from './latency.js';
import { parsePrometheus } from './prometheus.js';
import {
  cnnImage,
  modelInferRequest,
  predictRequest,
  type RequestSpec,
  randomInput,
  tfsJsonRequest,
  v2BinaryRequest,
} from './scenarios.js';
import { REPO_ROOT, startTensorServe } from './server-process.js';

const USAGE = `npm run soak -- [--minutes 10] [--window-s 30] [--concurrency 4] [--max-growth 0.05]
  --minutes      total load time (default 10)
  --window-s     sampling window (default 30 s; shorter runs get at least 4 windows)
  --concurrency  closed-loop clients per protocol (default 4; four protocols run at once)
  --max-growth   largest RSS growth allowed over the second half, as a fraction (default 0.05)`;

interface Window {
  readonly index: number;
  readonly endS: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly fds: number;
  readonly lagP99Ms: number;
  readonly p99Ms: Record<string, number>;
  readonly requests: number;
  readonly errors: number;
}

/** Closed-loop REST load with fetch (undici's keep-alive pool): `concurrency` loops for `durationS`. */
async function runRestLoad(
  url: string,
  spec: RequestSpec,
  concurrency: number,
  durationS: number,
): Promise<LoadResult> {
  const recorder = new LatencyRecorder();
  const started = performance.now();
  const endAt = started + durationS * 1000;
  const loop = async () => {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      try {
        const res = await fetch(url + spec.path, { method: 'POST', headers: spec.headers, body: spec.body });
        await res.arrayBuffer();
        if (res.status === 200) recorder.recordOk((performance.now() - t0) * 1000);
        else recorder.recordError(`HTTP ${res.status}`);
      } catch (err) {
        recorder.recordError((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return recorder.result(concurrency, (performance.now() - started) / 1000);
}

/** Median of the samples (NaN for none). */
function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const minutes = flags.num('minutes', 10);
  const concurrency = Math.round(flags.num('concurrency', 4));
  const maxGrowth = flags.num('max-growth', 0.05);
  const totalS = minutes * 60;
  const windowS = Math.min(flags.num('window-s', 30), totalS / 4);
  const windows = Math.max(4, Math.round(totalS / windowS));
  console.log(
    `soak: ${minutes} min in ${windows} windows of ${windowS} s, ${concurrency} clients per protocol`,
  );
  console.log(machineLine(machineInfo()));

  const server = await startTensorServe(path.join(REPO_ROOT, 'config', 'server.yaml'), {
    name: 'tensorserve',
  });
  const grpcAddress = server.grpcAddress ?? '';
  const cnn = [cnnImage(1)];
  const small = [randomInput('x', 'FP32', [4], 7)];
  const rows: Window[] = [];
  let failed = 0;
  const started = performance.now();
  try {
    for (let w = 0; w < windows; w++) {
      const rssSamples: number[] = [];
      const sampler = setInterval(() => rssSamples.push(rssMiB(server.pid)), 1000);
      const [restJson, v2Binary, grpcPredict, grpcInfer] = await Promise.all([
        runRestLoad(server.restUrl, tfsJsonRequest('cnn', cnn), concurrency, windowS),
        runRestLoad(server.restUrl, v2BinaryRequest('half_plus_two', small), concurrency, windowS),
        runGrpcLoad({
          address: grpcAddress,
          method: 'predict',
          request: predictRequest('cnn', cnn),
          concurrency,
          durationS: windowS,
          channels: 2,
        }),
        runGrpcLoad({
          address: grpcAddress,
          method: 'infer',
          request: modelInferRequest('half_plus_two_tfjs', small),
          concurrency,
          durationS: windowS,
          channels: 2,
        }),
      ]);
      const results = {
        'rest-json cnn': restJson,
        'v2-binary hpt': v2Binary,
        'grpc-predict cnn': grpcPredict,
        'grpc-infer hpt_tfjs': grpcInfer,
      };
      clearInterval(sampler);
      const metrics = parsePrometheus(await (await fetch(`${server.restUrl}/metrics`)).text());
      const errors = Object.values(results).reduce((n, r) => n + r.errors, 0);
      failed += errors;
      const row: Window = {
        index: w + 1,
        endS: Math.round((performance.now() - started) / 1000),
        rssMiB: median(rssSamples),
        heapMiB: (metrics.get('nodejs_heap_size_used_bytes') ?? Number.NaN) / 2 ** 20,
        fds: openFds(server.pid),
        lagP99Ms: (metrics.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
        p99Ms: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.latencyMs.p99])),
        requests: Object.values(results).reduce((n, r) => n + r.ok, 0),
        errors,
      };
      rows.push(row);
      const p99 = Object.entries(row.p99Ms)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ');
      console.log(
        `window ${row.index}/${windows} t=${row.endS}s rss=${row.rssMiB.toFixed(1)}MiB heap=${row.heapMiB.toFixed(1)}MiB ` +
          `fds=${row.fds} lag_p99=${row.lagP99Ms.toFixed(1)}ms requests=${row.requests} errors=${row.errors} p99(ms): ${p99}`,
      );
      const firstError = Object.values(results).find((r) => r.firstError)?.firstError;
      if (firstError) console.log(`  first error: ${firstError}`);
    }
  } finally {
    await server.stop();
  }
  const mid = rows[Math.floor(rows.length / 2)];
  const last = rows[rows.length - 1];
  const growth = last.rssMiB / mid.rssMiB - 1;
  const verdict = growth <= maxGrowth && failed === 0 ? 'PASS' : 'FAIL';
  const summary =
    `RSS second half: ${mid.rssMiB.toFixed(1)} -> ${last.rssMiB.toFixed(1)} MiB (${(growth * 100).toFixed(2)}%, limit ${(maxGrowth * 100).toFixed(0)}%); ` +
    `first window ${rows[0].rssMiB.toFixed(1)} MiB; failed requests ${failed}; ${rows.reduce((n, r) => n + r.requests, 0)} requests: ${verdict}`;
  console.log(summary);
  writeResults(
    'soak',
    { minutes, windowS, concurrency, windows: rows, growth, failed, verdict },
    [
      '| window | t (s) | RSS MiB | heap MiB | fds | lag p99 ms | requests | errors | p99 ms by protocol |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows.map(
        (r) =>
          `| ${r.index} | ${r.endS} | ${r.rssMiB.toFixed(1)} | ${r.heapMiB.toFixed(1)} | ${r.fds} | ${r.lagP99Ms.toFixed(1)} | ${r.requests} | ${r.errors} | ${Object.entries(
            r.p99Ms,
          )
            .map(([k, v]) => `${k} ${v.toFixed(1)}`)
            .join(', ')} |`,
      ),
      '',
      summary,
    ].join('\n'),
  );
  if (verdict === 'FAIL') process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

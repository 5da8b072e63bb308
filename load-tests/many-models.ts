/**
 * `npm run bench:many-models` (issue 12): many small models behind one server.
 *
 * 1. Resident cost: 100 pinned models vs one: RSS per idle model, /metrics scrape time, and
 *    the p99 of one hot model with 99 idle ones beside it against the same model alone.
 * 2. On demand: 200 models, a device budget holding about 50 (50 × the median charge measured
 *    in step 1), a Zipf(1.1) request mix over all 200: hit rate, cold-start p50/p99, warm p99,
 *    evictions/s, RSS sampled over time against budget + a stated fixed overhead.
 * 3. Baseline for 2: the same mix with all 200 resident (on demand, unlimited budget, every
 *    model touched once first).
 * 4. Fixed overhead for 2's bound: the server of 2 (same models, budget, connections and
 *    duration), every model requested once first (so each has its per-model state, and the
 *    budget's worth stays resident), then every request to one model, so nothing churns; its
 *    max RSS minus the charges of the versions resident is the overhead. The main thread's V8 heap is
 *    sampled beside RSS in 2 and 4, to tell JS garbage from native (worker, session) memory.
 * Models are generated with the project's generator (the example CNN, 55 KB) into a temp dir.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { cnnWeights } from '../scripts/models/cnn-weights.js';
import { cnnOnnx } from '../scripts/models/onnx-models.js';
import {
  Flags,
  machineInfo,
  machineLine,
  publishResults,
  ratio,
  tempDir,
  withCleanup,
} from './bench-common.js';
import { LatencyRecorder, type LoadResult } from './latency.js';
import { type ServerProcess, startTensorServe } from './server-process.js';

const USAGE = `usage: node dist/load-tests/many-models.js [--models 200] [--fit 50] [--duration 60]
  [--connections 8] [--zipf 1.1] [--resident 100] [--hot-duration 10] [--scrapes 20] [--sample-ms 500]
  [--overhead-duration <duration>]`;

const flags = new Flags(process.argv.slice(2), USAGE);
const N = flags.num('models', 200);
const FIT = flags.num('fit', 50);
const DURATION_S = flags.num('duration', 60);
const CONNECTIONS = flags.num('connections', 8);
const ZIPF_S = flags.num('zipf', 1.1);
const RESIDENT = Math.min(flags.num('resident', 100), N);
const HOT_S = flags.num('hot-duration', 10);
const SCRAPES = flags.num('scrapes', 20);
const SAMPLE_MS = flags.num('sample-ms', 500);
const OVERHEAD_S = flags.num('overhead-duration', DURATION_S);
const WORKERS = 2;

const name = (i: number) => `m${String(i).padStart(3, '0')}`;
const BODY = JSON.stringify({
  inputs: [{ name: 'image', shape: [1, 28, 28, 1], datatype: 'FP32', data: new Array(784).fill(0.5) }],
});

/** Resident set size of a process, bytes (Linux /proc). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line === undefined ? 0 : Number(line.split(/\s+/)[1]) * 1024;
}

/** Zipf(s) sampler over ranks 0..n-1, mapped to models through a fixed shuffle. */
function zipfSampler(n: number, s: number, seed = 12): () => number {
  const cdf: number[] = [];
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s;
    cdf.push(sum);
  }
  let state = seed;
  const rand = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return () => {
    const u = Math.random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return perm[lo];
  };
}

async function infer(url: string, model: string): Promise<void> {
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json', 'x-request-timeout-ms': '30000' },
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${res.status} ${text.slice(0, 200)}`);
}

/**
 * Closed loop: `connections` loops, each sending the next request when the last answered;
 * with `ratePerS`, requests also start no faster than that in all (paced, not bursty).
 */
async function closedLoop(
  url: string,
  pick: () => string,
  seconds: number,
  ratePerS?: number,
): Promise<LoadResult> {
  const rec = new LatencyRecorder();
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  let nextStart = started;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        if (ratePerS !== undefined) {
          const at = nextStart;
          nextStart += 1000 / ratePerS;
          const wait = at - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          if (performance.now() >= end) break;
        }
        const t0 = performance.now();
        try {
          await infer(url, pick());
          rec.recordOk((performance.now() - t0) * 1000);
        } catch (err) {
          rec.recordError((err as Error).message);
        }
      }
    }),
  );
  return rec.result(CONNECTIONS, (performance.now() - started) / 1000);
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** The server's main-thread V8 heap (prom-client's nodejs_heap_size_total_bytes), bytes. */
async function mainHeapOf(url: string): Promise<number> {
  return sumOf(await metricsText(url), 'nodejs_heap_size_total_bytes');
}

/** Sum of a metric's samples whose label text contains `match`. */
function sumOf(text: string, metric: string, match = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (!line.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** A quantile (seconds) of a Prometheus histogram's cumulative buckets, interpolated inside the bucket. */
function histogramQuantile(text: string, metric: string, match: string, q: number): number {
  const buckets: [number, number][] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}_bucket{`) || !line.includes(match)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    buckets.push([
      le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le),
      Number(line.slice(line.lastIndexOf(' ') + 1)),
    ]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return 0;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

interface Setup {
  readonly dir: string;
  config(
    file: string,
    models: number,
    extra: { onDemand: boolean; budget: number; instances: number },
  ): string;
}

async function generate(dir: string): Promise<Setup> {
  const bytes = cnnOnnx(cnnWeights());
  for (let i = 0; i < N; i++) {
    await mkdir(path.join(dir, 'models', name(i), '1'), { recursive: true });
    writeFileSync(path.join(dir, 'models', name(i), '1', 'model.onnx'), bytes);
  }
  return {
    dir,
    config(file, models, extra) {
      const lines = [
        'server:',
        '  log_level: warn',
        '  file_system_poll_wait_seconds: 0',
        'devices:',
        '  cpu:',
        `    workers: ${WORKERS}`,
        '    intra_op_threads: 1',
        `    memory_budget_bytes: ${extra.budget}`,
        'model_defaults:',
        `  instances: ${extra.instances}`,
        `  load_on_demand: ${extra.onDemand}`,
        '  load_retries: 0',
        '  cold_start_timeout_ms: 30000',
        '  batching: { max_batch_size: 1 }',
        'models:',
        ...Array.from(
          { length: models },
          (_, i) => `  - { name: ${name(i)}, base_path: ${path.join(dir, 'models', name(i))} }`,
        ),
      ];
      const p = path.join(dir, file);
      writeFileSync(p, `${lines.join('\n')}\n`);
      return p;
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

async function residentPhase(setup: Setup, running: Set<ServerProcess>) {
  process.stderr.write(`resident: ${RESIDENT} pinned models, then 1\n`);
  const many = await startTensorServe(
    setup.config('resident.yaml', RESIDENT, { onDemand: false, budget: 0, instances: 0 }),
    { name: 'resident' },
  );
  running.add(many);
  await infer(many.restUrl, name(0));
  const rssMany = rssOf(many.pid);
  const report = (await (await fetch(`${many.restUrl}/admin/tenants`)).json()) as {
    models: { estimatedBytes: number; measuredBytes: number | null; chargedBytes: number }[];
  };
  const scrapeMs: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const t0 = performance.now();
    await metricsText(many.restUrl);
    scrapeMs.push(performance.now() - t0);
  }
  const hotBeside = await closedLoop(many.restUrl, () => name(0), HOT_S);
  await many.stop();
  running.delete(many);
  const alone = await startTensorServe(
    setup.config('alone.yaml', 1, { onDemand: false, budget: 0, instances: 0 }),
    { name: 'alone' },
  );
  running.add(alone);
  await infer(alone.restUrl, name(0));
  const rssAlone = rssOf(alone.pid);
  const hotAlone = await closedLoop(alone.restUrl, () => name(0), HOT_S);
  await alone.stop();
  running.delete(alone);
  const charges = report.models.map((m) => m.chargedBytes);
  const perModelCharge = median(charges) / WORKERS; // instances 0 = on both workers
  return {
    rssMany,
    rssAlone,
    rssPerIdleModel: (rssMany - rssAlone) / (RESIDENT - 1),
    estimatedPerModel: median(report.models.map((m) => m.estimatedBytes)) / WORKERS,
    measuredPerModel: median(report.models.map((m) => m.measuredBytes ?? 0)) / WORKERS,
    perModelCharge,
    scrapeMsMedian: median(scrapeMs),
    scrapeMsMax: Math.max(...scrapeMs),
    hotBeside,
    hotAlone,
  };
}

interface MixOptions {
  readonly budget: number;
  readonly prewarm: boolean;
  /** Every request to m000 instead of the Zipf mix (the fixed-overhead run). */
  readonly oneHot?: boolean;
  /** Pace requests to this rate (the fixed-overhead run matches the on-demand run's). */
  readonly ratePerS?: number;
  readonly seconds: number;
}

async function mixPhase(setup: Setup, running: Set<ServerProcess>, label: string, o: MixOptions) {
  const { budget, prewarm, seconds } = o;
  const mix = o.oneHot ? `every request to ${name(0)}` : `Zipf(${ZIPF_S})`;
  process.stderr.write(
    `${label}: ${N} on-demand models, budget ${budget || 'unlimited'}, ${seconds}s ${mix}\n`,
  );
  const server = await startTensorServe(
    setup.config(`${label}.yaml`, N, { onDemand: true, budget, instances: 1 }),
    { name: label },
  );
  running.add(server);
  const rssStart = rssOf(server.pid);
  if (prewarm) for (let i = 0; i < N; i++) await infer(server.restUrl, name(i));
  const before = await metricsText(server.restUrl);
  const rss: { t: number; rss: number }[] = [];
  // Main-thread V8 heap with the RSS of the same moment, every 4th sample (a scrape costs the server).
  const heap: { t: number; rss: number; heap: number }[] = [];
  const t0 = Date.now();
  let ticks = 0;
  const sampler = setInterval(() => {
    const t = (Date.now() - t0) / 1000;
    const r = rssOf(server.pid);
    rss.push({ t, rss: r });
    if (ticks++ % 4 === 0)
      void mainHeapOf(server.restUrl)
        .then((h) => heap.push({ t, rss: r, heap: h }))
        .catch(() => {});
  }, SAMPLE_MS);
  const sample = zipfSampler(N, ZIPF_S);
  const pick = o.oneHot ? () => name(0) : () => name(sample());
  const load = await closedLoop(server.restUrl, pick, seconds, o.ratePerS);
  clearInterval(sampler);
  const report = (await (await fetch(`${server.restUrl}/admin/tenants`)).json()) as {
    models: { chargedBytes: number }[];
  };
  const after = await metricsText(server.restUrl);
  await server.stop();
  running.delete(server);
  const delta = (metric: string, match = '') => sumOf(after, metric, match) - sumOf(before, metric, match);
  const hits = delta('tensorserve_residency_requests_total', 'result="hit"');
  const misses = delta('tensorserve_residency_requests_total', 'result="miss"');
  // Prewarm traffic is in `before`; quantiles come from the run's histograms minus it only for counts,
  // so the warm run is prewarmed with one request per model (a small share of its samples).
  return {
    load,
    hits,
    misses,
    hitRate: hits + misses > 0 ? hits / (hits + misses) : 0,
    evictionsPerS: delta('tensorserve_model_evictions_total') / load.durationS,
    coldP50: histogramQuantile(after, 'tensorserve_residency_request_seconds', 'result="miss"', 0.5),
    coldP99: histogramQuantile(after, 'tensorserve_residency_request_seconds', 'result="miss"', 0.99),
    warmP50: histogramQuantile(after, 'tensorserve_residency_request_seconds', 'result="hit"', 0.5),
    warmP99: histogramQuantile(after, 'tensorserve_residency_request_seconds', 'result="hit"', 0.99),
    rssStart,
    rssMax: Math.max(rssStart, ...rss.map((r) => r.rss)),
    rss,
    /** Max of the main thread's V8 heap, and max of RSS minus it (native: workers, sessions, buffers). */
    mainHeapMax: Math.max(0, ...heap.map((h) => h.heap)),
    nativeMax: Math.max(0, ...heap.map((h) => h.rss - h.heap)),
    /** Charged bytes of the versions resident at the end. */
    residentCharged: report.models.reduce((sum, m) => sum + m.chargedBytes, 0),
    residentCount: report.models.length,
  };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const tmp = tempDir('tensorserve-many-');
  const running = new Set<ServerProcess>();
  await withCleanup(
    async () => {
      const setup = await generate(tmp.dir);
      const resident = await residentPhase(setup, running);
      const budget = Math.round(FIT * resident.perModelCharge);
      const onDemand = await mixPhase(setup, running, 'on-demand', {
        budget,
        prewarm: false,
        seconds: DURATION_S,
      });
      const allResident = await mixPhase(setup, running, 'all-resident', {
        budget: 0,
        prewarm: true,
        seconds: DURATION_S,
      });
      const oneHot = await mixPhase(setup, running, 'one-hot', {
        budget,
        prewarm: true,
        oneHot: true,
        ratePerS: onDemand.load.throughput,
        seconds: OVERHEAD_S,
      });
      const overhead = oneHot.rssMax - oneHot.residentCharged;
      const bound = budget + overhead;
      const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;
      const rows: [string, string][] = [
        ['machine', machineLine(machine)],
        [
          'models / budget',
          `${N} × cnn (55 KB file) on ${WORKERS} workers, instances 1; budget ${MiB(budget)} = ${FIT} × median charge ${MiB(resident.perModelCharge)}`,
        ],
        [
          'charge per model',
          `estimated ${MiB(resident.estimatedPerModel)}, measured (RSS delta) ${MiB(resident.measuredPerModel)}, charged ${MiB(resident.perModelCharge)}`,
        ],
        ['mix', `Zipf(${ZIPF_S}) over ${N}, ${CONNECTIONS} connections, ${DURATION_S} s, KServe v2 JSON`],
        [
          'hit rate',
          `${(onDemand.hitRate * 100).toFixed(1)}% (${onDemand.hits} hits, ${onDemand.misses} misses)`,
        ],
        ['cold start p50 / p99 (server, miss requests)', `${ms(onDemand.coldP50)} / ${ms(onDemand.coldP99)}`],
        ['warm p50 / p99 (server, hits): on demand', `${ms(onDemand.warmP50)} / ${ms(onDemand.warmP99)}`],
        [
          'warm p50 / p99 (server, hits): all resident',
          `${ms(allResident.warmP50)} / ${ms(allResident.warmP99)} (p99 ratio ${ratio(onDemand.warmP99, allResident.warmP99)})`,
        ],
        [
          'client p50 / p99: on demand vs all resident',
          `${onDemand.load.latencyMs.p50.toFixed(2)} / ${onDemand.load.latencyMs.p99.toFixed(2)} ms vs ${allResident.load.latencyMs.p50.toFixed(2)} / ${allResident.load.latencyMs.p99.toFixed(2)} ms`,
        ],
        [
          'throughput: on demand vs all resident',
          `${onDemand.load.throughput.toFixed(0)} vs ${allResident.load.throughput.toFixed(0)} req/s (${ratio(onDemand.load.throughput, allResident.load.throughput)}); errors ${onDemand.load.errors} / ${allResident.load.errors}${onDemand.load.firstError ? ` (${onDemand.load.firstError})` : ''}`,
        ],
        ['evictions/s', onDemand.evictionsPerS.toFixed(1)],
        [
          'RSS on demand: start / max',
          `${MiB(onDemand.rssStart)} / ${MiB(onDemand.rssMax)}; bound budget + fixed overhead = ${MiB(budget)} + ${MiB(overhead)} = ${MiB(bound)}: ${onDemand.rssMax <= bound ? 'within' : `EXCEEDED by ${MiB(onDemand.rssMax - bound)}`}`,
        ],
        [`RSS all resident (${N}): max`, MiB(allResident.rssMax)],
        [
          'fixed overhead',
          `max RSS of the same server (${N} on demand, same budget), each model requested once, then ${CONNECTIONS} connections on ${name(0)} for ${OVERHEAD_S} s paced to the on-demand run's ${onDemand.load.throughput.toFixed(0)} req/s (got ${oneHot.load.throughput.toFixed(0)}), minus the charges of its ${oneHot.residentCount} resident versions: ${MiB(oneHot.rssMax)} − ${MiB(oneHot.residentCharged)} = ${MiB(overhead)}`,
        ],
        [
          'main-thread V8 heap max: on demand vs one hot',
          `${MiB(onDemand.mainHeapMax)} vs ${MiB(oneHot.mainHeapMax)}`,
        ],
        [
          'RSS − main V8 heap, max: on demand vs one hot',
          `${MiB(onDemand.nativeMax)} vs ${MiB(oneHot.nativeMax)}: difference ${MiB(onDemand.nativeMax - oneHot.nativeMax)} against the budget ${MiB(budget)}`,
        ],
        [
          'resident at the end of the on-demand run',
          `${onDemand.residentCount} versions, charged ${MiB(onDemand.residentCharged)}`,
        ],
        [
          `RSS per idle model (${RESIDENT} resident vs 1)`,
          `${MiB(resident.rssPerIdleModel)} (${MiB(resident.rssMany)} vs ${MiB(resident.rssAlone)})`,
        ],
        [
          `/metrics scrape with ${RESIDENT} models`,
          `median ${resident.scrapeMsMedian.toFixed(1)} ms, max ${resident.scrapeMsMax.toFixed(1)} ms (${SCRAPES} scrapes)`,
        ],
        [
          `hot model p99: ${RESIDENT - 1} idle beside vs alone`,
          `${resident.hotBeside.latencyMs.p99.toFixed(2)} vs ${resident.hotAlone.latencyMs.p99.toFixed(2)} ms (${ratio(resident.hotBeside.latencyMs.p99, resident.hotAlone.latencyMs.p99)}); ${resident.hotBeside.throughput.toFixed(0)} vs ${resident.hotAlone.throughput.toFixed(0)} req/s`,
        ],
      ];
      const text = rows.map(([k, v]) => `${k.padEnd(48)} ${v}`).join('\n');
      const rssSeries = onDemand.rss.map((r) => `${r.t.toFixed(1)}s ${MiB(r.rss)}`).join(', ');
      const markdown = `| figure | value |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\nRSS over time (on demand): ${rssSeries}\n`;
      publishResults(
        'many-models',
        { machine, budget, resident, onDemand, allResident, oneHot, overhead, bound },
        `${text}\nRSS over time (on demand): ${rssSeries}`,
        markdown,
      );
    },
    async () => {
      await Promise.all([...running].map((s) => s.stop()));
      tmp.dispose();
    },
  );
}

await main();

/**
 * Issue 5's "noisy neighbour" benchmark. Tenants A and B (equal weights) share one model on
 * one CPU device with tenancy on. Run 1: B alone at a steady open-loop rate. Run 2: the same
 * B while A sends ten times B's rate open loop, over a rate quota on A so part of A is
 * answered 429. Reports B's p50/p99 in both runs, A's accepted and throttled counts, and
 * whether B's p99 with A present stays within 2× of B's p99 alone.
 *
 *   npm run bench:noisy -- [--duration 20] [--warmup 2] [--b-rate 50] [--a-factor 10]
 *     [--a-quota 150] [--model cnn|half_plus_two] [--workers 1] [--threads 1]
 *     [--max-batch 32] [--timeout-us 1000] [--out load-tests/results]
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Flags, machineInfo, machineLine, publishResults, tempDir, withCleanup } from './bench-common.js';
import { startTensorServeWith, type ThreadSettings } from './bench-servers.js';
import { type OpenLoopResult, runOpenLoop } from './open-loop.js';
import { cnnImage, type InputTensor, type RequestSpec, randomInput, tfsJsonRequest } from './scenarios.js';
import { REPO_ROOT, type ServerProcess } from './server-process.js';
import { markdownTable, textTable } from './sweep-output.js';
import { scrapeTenant, type TenantServerTime, tenantServerTime } from './tenant-metrics.js';

const USAGE = `Usage: npm run bench:noisy -- [--duration 20] [--warmup 2] [--b-rate 50] [--a-factor 10]
  [--a-quota 150] [--model cnn|half_plus_two] [--workers 1] [--threads 1] [--max-batch 32]
  [--timeout-us 1000] [--out load-tests/results]`;

const MODELS: Record<string, () => InputTensor[]> = {
  cnn: () => [cnnImage(1)],
  half_plus_two: () => [randomInput('x', 'FP32', [1])],
};

const log = (line: string) => process.stderr.write(`${line}\n`);

function withKey(request: RequestSpec, key: string): RequestSpec {
  return { ...request, headers: { ...request.headers, authorization: `Bearer ${key}` } };
}

function tenancy(aQuota: number): Record<string, unknown> {
  return {
    // The metrics endpoints need a scrape key once tenancy is on.
    metrics_keys: [{ env: 'TS_BENCH_METRICS_KEY' }],
    tenants: [
      {
        id: 'tenant-a',
        api_keys: [{ env: 'TS_BENCH_A_KEY' }],
        weight: 1,
        shared_models: ['*'],
        quotas: { requests_per_second: aQuota, burst: Math.max(1, Math.ceil(aQuota)) },
      },
      { id: 'tenant-b', api_keys: [{ env: 'TS_BENCH_B_KEY' }], weight: 1, shared_models: ['*'] },
    ],
  };
}

interface Runs {
  readonly alone: OpenLoopResult;
  readonly withA: OpenLoopResult;
  readonly a: OpenLoopResult;
  /** B's mean time inside the inference core (server metrics) in run 1 and run 2. */
  readonly bServerAlone?: TenantServerTime;
  readonly bServerWithA?: TenantServerTime;
}

async function measure(
  server: ServerProcess,
  a: RequestSpec,
  b: RequestSpec,
  o: { bRate: number; aRate: number; durationS: number; warmupS: number; metricsKey: string },
): Promise<Runs> {
  const res = await fetch(server.restUrl + b.path, { method: 'POST', headers: b.headers, body: b.body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`B's request answered ${res.status}: ${text.slice(0, 300)}`);
  if (o.warmupS > 0)
    await runOpenLoop({ baseUrl: server.restUrl, request: b, ratePerS: o.bRate, durationS: o.warmupS });
  log(`run 1: B alone at ${o.bRate} req/s for ${o.durationS} s`);
  const s0 = await scrapeTenant(server.restUrl, 'tenant-b', o.metricsKey);
  const alone = await runOpenLoop({
    baseUrl: server.restUrl,
    request: b,
    ratePerS: o.bRate,
    durationS: o.durationS,
  });
  const s1 = await scrapeTenant(server.restUrl, 'tenant-b', o.metricsKey);
  log(`run 2: B at ${o.bRate} req/s with A at ${o.aRate} req/s (A starts 1 s earlier)`);
  const lead = 1;
  const aRun = runOpenLoop({
    baseUrl: server.restUrl,
    request: a,
    ratePerS: o.aRate,
    durationS: o.durationS + lead,
  });
  await new Promise((r) => setTimeout(r, lead * 1000));
  const withA = await runOpenLoop({
    baseUrl: server.restUrl,
    request: b,
    ratePerS: o.bRate,
    durationS: o.durationS,
  });
  const aResult = await aRun;
  const s2 = await scrapeTenant(server.restUrl, 'tenant-b', o.metricsKey);
  const bServerAlone = tenantServerTime(s0, s1);
  const bServerWithA = tenantServerTime(s1, s2);
  return {
    alone,
    withA,
    a: aResult,
    ...(bServerAlone ? { bServerAlone } : {}),
    ...(bServerWithA ? { bServerWithA } : {}),
  };
}

const f2 = (n: number) => n.toFixed(2);
const opt = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(2));

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2), USAGE);
  const model = flags.str('model', 'cnn');
  const makeInputs = MODELS[model];
  if (!makeInputs) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}`);
  const threads: ThreadSettings = {
    intraOpThreads: flags.num('threads', 1),
    workers: flags.num('workers', 1),
  };
  const bRate = flags.num('b-rate', 50);
  const aRate = bRate * flags.num('a-factor', 10);
  const aQuota = flags.num('a-quota', 150);
  const durationS = flags.num('duration', 20);
  const warmupS = flags.num('warmup', 2);
  const batching = {
    maxBatchSize: flags.num('max-batch', 32),
    batchTimeoutMicros: flags.num('timeout-us', 1000),
  };
  const machine = machineInfo();
  // Fresh random keys per run, given to the server through the environment it inherits.
  const keyA = randomUUID();
  const keyB = randomUUID();
  process.env.TS_BENCH_A_KEY = keyA;
  process.env.TS_BENCH_B_KEY = keyB;
  const metricsKey = randomUUID();
  process.env.TS_BENCH_METRICS_KEY = metricsKey;
  const body = tfsJsonRequest(model, makeInputs());
  const tmp = tempDir('tensorserve-noisy-');
  let server: ServerProcess | undefined;
  const runs = await withCleanup(
    async () => {
      server = await startTensorServeWith(
        tmp.dir,
        'tensorserve-tenants',
        [{ name: model, basePath: path.join(REPO_ROOT, 'models', model), batching }],
        threads,
        tenancy(aQuota),
      );
      return measure(server, withKey(body, keyA), withKey(body, keyB), {
        bRate,
        aRate,
        durationS,
        warmupS,
        metricsKey,
      });
    },
    async () => {
      await server?.stop();
      tmp.dispose();
    },
  );
  const { alone, withA, a } = runs;
  const p99Ratio = alone.latencyMs.p99 > 0 ? withA.latencyMs.p99 / alone.latencyMs.p99 : Number.NaN;
  const met = p99Ratio <= 2;
  const header = [
    'run',
    'B sent',
    'B ok',
    'B p50 ms',
    'B p99 ms',
    'B errors',
    'B skipped',
    'B in core ms',
    'A sent',
    'A ok (200)',
    'A 429',
    'A other',
    'A skipped',
  ];
  const aOther = a.sent - (a.statuses['200'] ?? 0) - (a.statuses['429'] ?? 0);
  const rows = [
    [
      '1: B alone',
      String(alone.sent),
      String(alone.ok),
      f2(alone.latencyMs.p50),
      f2(alone.latencyMs.p99),
      String(alone.errors),
      String(alone.skipped),
      opt(runs.bServerAlone?.requestMs),
      '-',
      '-',
      '-',
      '-',
      '-',
    ],
    [
      '2: B + A',
      String(withA.sent),
      String(withA.ok),
      f2(withA.latencyMs.p50),
      f2(withA.latencyMs.p99),
      String(withA.errors),
      String(withA.skipped),
      opt(runs.bServerWithA?.requestMs),
      String(a.sent),
      String(a.statuses['200'] ?? 0),
      String(a.statuses['429'] ?? 0),
      String(aOther),
      String(a.skipped),
    ],
  ];
  const verdict =
    `target "B's p99 with A present within 2x of B alone": ${met ? 'MET' : 'NOT MET'} ` +
    `(p99 ${f2(withA.latencyMs.p99)} ms / ${f2(alone.latencyMs.p99)} ms = ${f2(p99Ratio)}x; p50 ratio ` +
    `${f2(withA.latencyMs.p50 / Math.max(1e-9, alone.latencyMs.p50))}x)`;
  const notes = [
    `model ${model} (shared, tenancy on, tenants A and B weight 1), TF Serving REST JSON, ${threads.workers} worker thread(s), intra_op_threads ${threads.intraOpThreads}, max_batch_size ${batching.maxBatchSize}, batch_timeout_micros ${batching.batchTimeoutMicros}.`,
    `B: open loop at ${bRate} req/s (fixed intervals; latency from each request's scheduled start). A: open loop at ${aRate} req/s (${aRate / bRate}x B) with a rate quota of ${aQuota} req/s (burst ${Math.ceil(aQuota)}), starting 1 s before B's run 2.`,
    `${warmupS} s warm-up (B alone), then ${durationS} s per run. A other: answers neither 200 nor 429; B/A skipped: sends not made because 512 of that tenant's requests were already in flight (the server was not keeping up); a request unanswered after 30 s counts as an error.`,
    "B in core: B's mean time inside the inference core, scheduler queue included (nv_inference_request_duration_us with its tenant label); the rest of B's latency is spent before the core (HTTP, body parsing, waiting for the main thread or a CPU).",
  ];
  const command = `npm run bench:noisy -- ${process.argv.slice(2).join(' ')}`.trim();
  const text = [
    '== Noisy neighbour ==',
    machineLine(machine),
    ...notes,
    '',
    textTable(header, rows),
    '',
    verdict,
  ].join('\n');
  const md = [
    '# Noisy neighbour',
    '',
    `Measured ${machineLine(machine)}. Command: \`${command}\`.`,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    markdownTable(header, rows),
    '',
    `**${verdict}**`,
    '',
  ].join('\n');
  publishResults(
    'noisy-neighbour',
    { machine, command, model, bRate, aRate, aQuota, durationS, threads, batching, runs, p99Ratio, met },
    text,
    md,
    flags.str('out', path.join(REPO_ROOT, 'load-tests', 'results')),
  );
}

await main();

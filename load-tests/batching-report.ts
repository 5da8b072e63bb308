/**
 * How batching-bench shows one model's comparison: a text table, the same in markdown, the
 * engine ceiling, the thread settings and the verdict on issue 3's target.
 */

import { ratio } from './bench-common.js';
import type { BatchingSettings, ThreadSettings } from './bench-servers.js';
import type { CeilingResult } from './engine-ceiling.js';
import type { LoadResult } from './latency.js';
import type { ServerStats } from './prometheus.js';
import { markdownTable, textTable } from './sweep-output.js';

/** One measured point. `meanBatchSize` comes from the server's metrics (1 by construction for the naive server). */
export interface BenchRow {
  readonly setup: string;
  readonly protocol: string;
  /** Which tensorserve build served it: '' = this one, 'baseline' = the --baseline build. */
  readonly build: string;
  readonly result: LoadResult;
  readonly meanBatchSize?: number;
  /** Per-request queue / compute means from the server's metrics (empty for the naive server). */
  readonly server: ServerStats;
}

/** One model's rows; the first row is the baseline (a). */
export interface SectionReport {
  readonly title: string;
  readonly model: string;
  readonly requestShape: readonly number[];
  readonly rows: readonly BenchRow[];
  /** Connections (closed loop) of every row. */
  readonly connections: number;
  readonly ceiling: CeilingResult;
}

/** What every section of one run shares. */
export interface RunContext {
  readonly machine: string;
  readonly command: string;
  readonly durationS: number;
  readonly warmupS: number;
  readonly threads: ThreadSettings;
  readonly batching: BatchingSettings;
  /** The --baseline checkout the tensorserve rows also ran on, and the rounds of each. */
  readonly baseline?: string;
  readonly rounds?: number;
}

const HEADER = [
  'setup',
  'protocol',
  'req/s',
  'p50 ms',
  'p99 ms',
  'mean batch',
  'srv queue ms',
  'srv compute ms',
  'vs (a)',
  'errors',
];
const opt = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(2));

function cells(rep: SectionReport): string[][] {
  const base = rep.rows[0].result.throughput;
  return rep.rows.map((r) => [
    r.setup,
    r.protocol,
    r.result.throughput.toFixed(1),
    r.result.latencyMs.p50.toFixed(2),
    r.result.latencyMs.p99.toFixed(2),
    r.meanBatchSize === undefined ? 'n/a' : r.meanBatchSize.toFixed(2),
    opt(r.server.queueMs),
    opt(r.server.computeMs),
    ratio(r.result.throughput, base),
    String(r.result.errors),
  ]);
}

/** Issue 3's target: (c) over REST JSON ≥ 1.5× (a)'s throughput with p99 ≤ (a)'s. */
export function verdict(rep: SectionReport): string {
  const a = rep.rows[0].result;
  const c = rep.rows.find(
    (r) => r.build === '' && r.setup.startsWith('(c)') && r.protocol === 'rest-json',
  )?.result;
  if (!c) return 'target not evaluated: no (c) REST JSON row';
  if (a.ok === 0 || c.ok === 0)
    return 'target NOT EVALUATED: (a) or (c) had no successful response in the measured interval (use a longer --duration)';
  const x = a.throughput > 0 ? c.throughput / a.throughput : 0;
  const thr = x >= 1.5;
  const p99 = c.latencyMs.p99 <= a.latencyMs.p99;
  const met = thr && p99 ? 'MET' : 'NOT MET';
  return (
    `target "(c) >= 1.5x (a) throughput with p99 no worse than (a)": ${met} ` +
    `(throughput ${x.toFixed(2)}x ${thr ? '>=' : '<'} 1.5x; p99 ${c.latencyMs.p99.toFixed(2)} ms ` +
    `${p99 ? '<=' : '>'} ${a.latencyMs.p99.toFixed(2)} ms)`
  );
}

/**
 * With a baseline build: per tensorserve setup and protocol, this build's mean req/s and mean
 * p99 over the baseline's (means over the rounds). Empty without a baseline.
 */
export function baselineComparison(rep: SectionReport): string[] {
  if (!rep.rows.some((r) => r.build === 'baseline')) return [];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const keyOf = (r: BenchRow) => `${r.setup.replace(/ \[baseline\]$/, '')}|${r.protocol}`;
  const keys = [...new Set(rep.rows.filter((r) => r.build === 'baseline').map(keyOf))];
  const lines: string[] = [];
  for (const key of keys) {
    const of = (build: string) => rep.rows.filter((r) => r.build === build && keyOf(r) === key);
    const base = of('baseline');
    const cur = of('');
    if (cur.length === 0) continue;
    const [setup, protocol] = key.split('|');
    const t0 = mean(base.map((r) => r.result.throughput));
    const t1 = mean(cur.map((r) => r.result.throughput));
    const p0 = mean(base.map((r) => r.result.latencyMs.p99));
    const p1 = mean(cur.map((r) => r.result.latencyMs.p99));
    lines.push(
      `${setup} ${protocol}: req/s ${t1.toFixed(1)} vs baseline ${t0.toFixed(1)} (${ratio(t1, t0)}), ` +
        `p99 ${p1.toFixed(2)} vs ${p0.toFixed(2)} ms (${ratio(p1, p0)}); means of ${cur.length} and ${base.length} runs`,
    );
  }
  return lines;
}

function ceilingLine(rep: SectionReport): string {
  const c = rep.ceiling;
  const at1 = c.points.find((p) => p.batchSize === 1);
  return (
    `engine ceiling (in-process onnxruntime-node, intraOpNumThreads ${c.threads}): ` +
    `${c.best.samplesPerS.toFixed(0)} samples/s at batch ${c.best.batchSize}` +
    (at1 ? `, ${at1.samplesPerS.toFixed(0)} samples/s at batch 1` : '')
  );
}

function notes(rep: SectionReport, ctx: RunContext): string[] {
  const t = ctx.threads;
  return [
    `${rep.connections} connections, closed loop; ${ctx.warmupS} s warm-up + ${ctx.durationS} s measured per row; one server at a time.`,
    `threads: every onnxruntime session intraOpNumThreads ${t.intraOpThreads}, interOpNumThreads 1. ` +
      `(a) runs HTTP, JSON and inference on its one main thread; tensorserve runs HTTP/JSON/batching on its main ` +
      `thread and inference on ${t.workers} worker thread(s), so it may use ${1 + t.workers} threads for ` +
      `${t.workers} inference at a time. The load generator shares the same cores.`,
    `batching on: max_batch_size ${ctx.batching.maxBatchSize}, batch_timeout_micros ${ctx.batching.batchTimeoutMicros} ` +
      `(eager dispatch, the default: a request that finds a worker free runs at once, and the batch that grows ` +
      `while every worker is busy starts when one frees, so under load batches fill without waiting; the timeout ` +
      `applies only with eager_dispatch: false). Batching off: max_batch_size 1.`,
    'mean batch: nv_inference_count / nv_inference_exec_count over the measured interval; (a) is 1 by construction. ' +
      'srv queue / srv compute: per-request means of nv_inference_queue_duration_us and ' +
      'nv_inference_compute_infer_duration_us; the rest of the latency is spent outside the scheduler and the ' +
      'engine (HTTP, JSON, hand-off to the worker, waiting for a CPU).',
  ];
}

const baselineHeader = (ctx: RunContext) =>
  `this build vs baseline ${ctx.baseline ?? ''} (${ctx.rounds ?? 1} rounds, each baseline then this build):`;

function baselineLines(rep: SectionReport, ctx: RunContext): string[] {
  const lines = baselineComparison(rep);
  return lines.length === 0 ? [] : [baselineHeader(ctx), ...lines, ''];
}

function baselineMarkdown(rep: SectionReport, ctx: RunContext): string[] {
  const lines = baselineComparison(rep);
  return lines.length === 0 ? [] : [baselineHeader(ctx), '', ...lines.map((l) => `- ${l}`), ''];
}

export function sectionText(rep: SectionReport, ctx: RunContext): string {
  return [
    `== ${rep.title} ==`,
    ctx.machine,
    ...notes(rep, ctx),
    '',
    textTable(HEADER, cells(rep)),
    '',
    ...baselineLines(rep, ctx),
    ceilingLine(rep),
    verdict(rep),
  ].join('\n');
}

export function sectionMarkdown(rep: SectionReport, ctx: RunContext): string {
  return [
    `## ${rep.title}`,
    '',
    `Measured ${ctx.machine}. Command: \`${ctx.command}\`.`,
    '',
    ...notes(rep, ctx).map((n) => `- ${n}`),
    '',
    markdownTable(HEADER, cells(rep)),
    '',
    ...baselineMarkdown(rep, ctx),
    `${ceilingLine(rep)}.`,
    '',
    `**${verdict(rep)}**`,
    '',
  ].join('\n');
}

/**
 * How a concurrency sweep is shown and saved: a perf_analyzer-style text table, the same as
 * markdown, a JSON record, and a throughput-vs-p99 SVG (hand-written, no dependencies).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadResult } from './latency.js';
import type { ServerStats } from './prometheus.js';

/** One concurrency level of a sweep: the client's view and the server's metrics over it. */
export interface SweepPoint extends LoadResult {
  readonly server: ServerStats;
}

/** A whole sweep with what produced it. */
export interface SweepRecord {
  readonly model: string;
  readonly protocol: string;
  readonly target: string;
  readonly durationS: number;
  readonly requestBytes: number;
  readonly startedAt: string;
  readonly node: string;
  readonly points: readonly SweepPoint[];
}

const f = (n: number | undefined, digits = 2) => (n === undefined ? 'n/a' : n.toFixed(digits));

const COLUMNS = [
  'concurrency',
  'infer/s',
  'p50 ms',
  'p90 ms',
  'p95 ms',
  'p99 ms',
  'server queue ms',
  'server compute ms',
  'batch size',
  'errors',
];

function rows(points: readonly SweepPoint[]): string[][] {
  return points.map((p) => [
    String(p.concurrency),
    p.throughput.toFixed(1),
    f(p.latencyMs.p50),
    f(p.latencyMs.p90),
    f(p.latencyMs.p95),
    f(p.latencyMs.p99),
    f(p.server.queueMs, 3),
    f(p.server.computeMs, 3),
    f(p.server.meanBatchSize),
    String(p.errors),
  ]);
}

/** Plain-text table with right-aligned columns. */
export function textTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

/** GitHub markdown table; the first column left-aligned, the rest right-aligned. */
export function markdownTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const sep = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, sep, ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function sweepTextTable(points: readonly SweepPoint[]): string {
  return textTable(COLUMNS, rows(points));
}

export function sweepMarkdown(rec: SweepRecord): string {
  return [
    `# ${rec.model} over ${rec.protocol}`,
    '',
    `Target ${rec.target}, ${rec.durationS} s per point, ${rec.requestBytes} request bytes, node ${rec.node}, ${rec.startedAt}.`,
    'Server queue / compute: per-request means from the Prometheus counters `nv_inference_queue_duration_us` and',
    '`nv_inference_compute_{input,infer,output}_duration_us` (summed) over `nv_inference_request_success`;',
    'batch size: `nv_inference_count` / `nv_inference_exec_count`.',
    '',
    markdownTable(COLUMNS, rows(rec.points)),
    '',
  ].join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Throughput (x) vs p99 latency (y) line chart, one labelled dot per concurrency level. */
export function sweepSvg(rec: SweepRecord): string {
  const W = 640;
  const H = 400;
  const m = { l: 70, r: 20, t: 40, b: 50 };
  const pts = rec.points;
  const maxX = Math.max(1, ...pts.map((p) => p.throughput)) * 1.1;
  const maxY = Math.max(0.001, ...pts.map((p) => p.latencyMs.p99)) * 1.1;
  const x = (v: number) => m.l + (v / maxX) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - (v / maxY) * (H - m.t - m.b);
  const ticks = (max: number) => Array.from({ length: 5 }, (_, i) => (max * (i + 1)) / 5);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(`${rec.model} / ${rec.protocol}: throughput vs p99 latency`)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">infer/s</text>`,
    `<text x="16" y="${(m.t + H - m.b) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.t + H - m.b) / 2})">p99 latency (ms)</text>`,
  ];
  for (const t of ticks(maxX))
    parts.push(
      `<line x1="${x(t)}" y1="${H - m.b}" x2="${x(t)}" y2="${H - m.b + 5}" stroke="black"/>`,
      `<text x="${x(t)}" y="${H - m.b + 18}" text-anchor="middle">${t.toFixed(0)}</text>`,
    );
  for (const t of ticks(maxY))
    parts.push(
      `<line x1="${m.l - 5}" y1="${y(t)}" x2="${m.l}" y2="${y(t)}" stroke="black"/>`,
      `<text x="${m.l - 8}" y="${y(t) + 4}" text-anchor="end">${t.toFixed(t < 10 ? 2 : 0)}</text>`,
    );
  if (pts.length > 1)
    parts.push(
      `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts.map((p) => `${x(p.throughput).toFixed(1)},${y(p.latencyMs.p99).toFixed(1)}`).join(' ')}"/>`,
    );
  for (const p of pts)
    parts.push(
      `<circle cx="${x(p.throughput).toFixed(1)}" cy="${y(p.latencyMs.p99).toFixed(1)}" r="4" fill="#1f77b4"/>`,
      `<text x="${(x(p.throughput) + 6).toFixed(1)}" y="${(y(p.latencyMs.p99) - 6).toFixed(1)}">c=${p.concurrency}</text>`,
    );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Writes `<base>.json`, `<base>.md` and `<base>.svg` into `dir`; returns the three paths. */
export function writeSweep(
  dir: string,
  base: string,
  rec: SweepRecord,
): { json: string; md: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const files = {
    json: path.join(dir, `${base}.json`),
    md: path.join(dir, `${base}.md`),
    svg: path.join(dir, `${base}.svg`),
  };
  writeFileSync(files.json, `${JSON.stringify(rec, null, 2)}\n`);
  writeFileSync(files.md, sweepMarkdown(rec));
  writeFileSync(files.svg, sweepSvg(rec));
  return files;
}

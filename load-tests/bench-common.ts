/**
 * Shared plumbing of the one-shot benchmarks (batching-bench, noisy-neighbour): flag parsing,
 * a description of the machine, temporary tensorserve configs and the results files.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './server-process.js';

/** `--name value`, `--name=value` and bare `--flag` (true); last one wins. */
export class Flags {
  private readonly values = new Map<string, string>();

  constructor(argv: readonly string[], usage: string) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--help' || a === '-h') {
        console.log(usage);
        process.exit(0);
      }
      if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${usage}`);
      const eq = a.indexOf('=');
      if (eq > 0) this.values.set(a.slice(2, eq), a.slice(eq + 1));
      else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--'))
        this.values.set(a.slice(2), argv[++i]);
      else this.values.set(a.slice(2), 'true');
    }
  }

  /** A positive finite number, or `fallback` when the flag is absent; throws naming the flag. */
  num(name: string, fallback: number): number {
    const raw = this.values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
    return n;
  }

  str(name: string, fallback: string): string {
    return this.values.get(name) ?? fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    if (this.values.has(`no-${name}`)) return false;
    const raw = this.values.get(name);
    return raw === undefined ? fallback : raw !== 'false';
  }
}

/** What the figures were measured on; printed with every report. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  /** 1-minute load average when the run started (other processes compete for the cores). */
  readonly loadAvg1: number;
  readonly date: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Model name'));
    if (line) cpuModel = line.split(':')[1].trim();
  } catch {
    // lscpu missing: keep os.cpus()
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    node: process.version,
    loadAvg1: Number(os.loadavg()[0].toFixed(2)),
    date: new Date().toISOString(),
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.date}: ${m.cpus} CPUs (${m.cpuModel}), node ${m.node}, 1-min load average ${m.loadAvg1} at start`;
}

/** A temporary directory removed by `dispose()` (idempotent). */
export interface TempDir {
  readonly dir: string;
  dispose(): void;
}

export function tempDir(prefix: string): TempDir {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `<base>.json` and `<base>.md` into `dir` (default load-tests/results); returns their paths. */
export function writeResults(
  base: string,
  record: unknown,
  markdown: string,
  dir = path.join(REPO_ROOT, 'load-tests', 'results'),
): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const files = { json: path.join(dir, `${base}.json`), md: path.join(dir, `${base}.md`) };
  writeFileSync(files.json, `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(files.md, markdown);
  return files;
}

/**
 * Writes the results (see writeResults), prints the text table and the markdown on stdout and
 * the written paths on stderr: every benchmark's last step.
 */
export function publishResults(
  base: string,
  record: unknown,
  text: string,
  markdown: string,
  dir?: string,
): void {
  const files = writeResults(base, record, markdown, dir);
  console.log(text);
  console.log('\n----- markdown -----\n');
  console.log(markdown);
  process.stderr.write(`wrote ${files.json} and ${files.md}\n`);
}

/** `2.34×`, or `n/a` without a baseline. */
export function ratio(value: number, base: number): string {
  return base > 0 ? `${(value / base).toFixed(2)}×` : 'n/a';
}

/** Runs `body` and always awaits `cleanup`, even when `body` throws or the user presses Ctrl-C. */
export async function withCleanup<T>(body: () => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  const onSignal = () => {
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { errorMessage } from '../src/core/errors.js';
import type { Signature } from '../src/core/signature.js';
import { WARMUP_FILE, type WarmupData } from '../src/main/config/warmup-options.js';
import {
  recordFromSampleJson,
  recordsFromSignature,
  warmupFileBytes,
} from '../src/main/lifecycle/warmup/warmup-writer.js';
import { detectPlatform } from '../src/workers/platform.js';
import { loadRuntime } from '../src/workers/runtimes/index.js';

const USAGE = `Usage: npm run make-warmup -- <model dir> [options]

Writes <version>/${WARMUP_FILE}: a TFRecord of PredictLog records that
tensorserve (and TF Serving) replays before the version becomes AVAILABLE.

  <model dir>            a model base path (numbered version directories) or one version directory
  --version=N            the version to write for (default: the highest)
  --request=FILE         a sample request, TF Serving REST predict JSON ({"instances": ...} or
                         {"inputs": ...}); repeatable; one record per file (times --count)
  Without --request, records are generated from the model's signature:
  --batch-sizes=1,8      one set of records per batch size (default 1)
  --data=zero|random     what the generated tensors hold (default zero)
  --dims=NAME:D1,D2      dims after the batch dim of input NAME, for dims the signature leaves
                         open (default 1); repeatable
  --count=N              records per batch size or per request file (default 1)
  --output=FILE          where to write (default: inside the version directory)
`;

export interface MakeWarmupOptions {
  readonly modelDir: string;
  readonly version?: number;
  readonly requests: readonly string[];
  readonly batchSizes: readonly number[];
  readonly data: WarmupData;
  readonly dims: Readonly<Record<string, readonly number[]>>;
  readonly count: number;
  readonly output?: string;
}

/** Writes the warmup file; returns its path and record count. */
export async function makeWarmup(o: MakeWarmupOptions): Promise<{ file: string; records: number }> {
  const versionDir = await resolveVersionDir(o.modelDir, o.version);
  const signature = await readSignature(versionDir);
  const records: Uint8Array[] = [];
  if (o.requests.length > 0) {
    for (const file of o.requests) {
      const text = await readFile(file, 'utf8');
      let record: Uint8Array;
      try {
        record = recordFromSampleJson(signature, text);
      } catch (err) {
        throw new Error(`${file}: ${errorMessage(err)}`);
      }
      for (let k = 0; k < o.count; k++) records.push(record);
    }
  } else {
    records.push(...recordsFromSignature(signature, o));
  }
  const file = o.output ?? path.join(versionDir, WARMUP_FILE);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, warmupFileBytes(records));
  return { file, records: records.length };
}

async function resolveVersionDir(dir: string, version: number | undefined): Promise<string> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
    .map((e) => Number(e.name));
  if (names.length === 0) {
    if (version !== undefined) throw new Error(`${dir} has no version directories`);
    return dir; // a version directory itself
  }
  const v = version ?? Math.max(...names);
  if (!names.includes(v))
    throw new Error(`${dir} has no version ${v} (versions: ${names.sort().join(', ')})`);
  return path.join(dir, String(v));
}

/** Loads the model once with its runtime, in this process, for its signature. */
async function readSignature(versionDir: string): Promise<Signature> {
  const platform = await detectPlatform(versionDir);
  const runtime = await loadRuntime(platform);
  const model = await runtime.load(versionDir, { device: 'cpu', intraOpThreads: 1 });
  try {
    return model.signature;
  } finally {
    await model.dispose();
  }
}

function parseCli(argv: string[]): MakeWarmupOptions {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  const { values, positionals } = parsed;
  return optionsOf(values, positionals);
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      version: { type: 'string' },
      request: { type: 'string', multiple: true },
      'batch-sizes': { type: 'string' },
      data: { type: 'string' },
      dims: { type: 'string', multiple: true },
      count: { type: 'string' },
      output: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
}

function optionsOf(
  values: ReturnType<typeof parseOptions>['values'],
  positionals: string[],
): MakeWarmupOptions {
  if (values.help || positionals.length !== 1)
    throw new UsageError(values.help ? '' : 'expected one model directory');
  const positive = (s: string, what: string) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new UsageError(`${what} must be a positive integer, got '${s}'`);
    return n;
  };
  const data = values.data ?? 'zero';
  if (data !== 'zero' && data !== 'random')
    throw new UsageError(`--data must be zero or random, got '${data}'`);
  const dims: Record<string, number[]> = {};
  for (const d of values.dims ?? []) {
    const [name, list] = d.split(':');
    if (!name || list === undefined) throw new UsageError(`--dims must look like NAME:D1,D2, got '${d}'`);
    dims[name] = list.split(',').map((x) => positive(x, `--dims ${name}`));
  }
  return {
    modelDir: path.resolve(positionals[0]),
    version: values.version === undefined ? undefined : Number(values.version),
    requests: values.request ?? [],
    batchSizes: (values['batch-sizes'] ?? '1').split(',').map((x) => positive(x, '--batch-sizes')),
    data,
    dims,
    count: values.count === undefined ? 1 : positive(values.count, '--count'),
    output: values.output,
  };
}

class UsageError extends Error {}

async function main(): Promise<void> {
  try {
    const { file, records } = await makeWarmup(parseCli(process.argv.slice(2)));
    console.log(`wrote ${records} warmup record(s) to ${file}`);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) console.error(`make-warmup: ${err.message}\n`);
      console.error(USAGE);
      process.exitCode = 2;
      return;
    }
    console.error(`make-warmup: ${errorMessage(err)}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

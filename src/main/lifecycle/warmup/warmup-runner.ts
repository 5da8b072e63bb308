import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, isServingErrorLike, ServingError } from '../../../core/errors.js';
import type { Platform } from '../../../core/platform.js';
import type { Signature } from '../../../core/signature.js';
import type { ExampleSignature } from '../../config/example-signatures.js';
import { WARMUP_FILE, type WarmupOptions } from '../../config/warmup-options.js';
import { type LifecycleLogger, silentLogger } from '../logger.js';
import { decodePredictionLog, type LogKind, type PredictionLogRecord } from './prediction-log.js';
import { readTfRecords } from './tfrecord.js';
import { generateInputs } from './warmup-inputs.js';
import {
  type InputsRunner,
  type LogReplayer,
  predictReplayer,
  type ReplayTarget,
  replayRecord,
} from './warmup-replay.js';

/** A version just registered with the scheduler, about to become AVAILABLE. */
export interface WarmupTarget {
  readonly model: string;
  readonly version: number;
  readonly versionDir: string;
  /** Its scheduler key. */
  readonly key: string;
  readonly platform: Platform;
  readonly signature: Signature;
  readonly exampleSignatures?: Readonly<Record<string, ExampleSignature>>;
  readonly options: WarmupOptions;
}

/** What a finished warmup did: from the file, from the YAML declaration, or nothing. */
export interface WarmupResult {
  readonly source: 'file' | 'declared' | 'none' | 'disabled';
  /** Requests run (records times iterations, or declared requests). */
  readonly requests: number;
  readonly millis: number;
}

/** Called once per warmup, success (`code` OK) or failure. Must not throw. */
export type WarmupObserver = (target: WarmupTarget, result: WarmupResult, code: string) => void;

export interface WarmupRunnerOptions {
  /** The real inference path (serving/warmup-path.ts). */
  readonly run: InputsRunner;
  /** The scheduler's clock: deadlines are on its scale. */
  readonly clock: { now(): number };
  /** server.limits.max_tensor_elements: warmup tensors obey the request limits. */
  readonly maxTensorElements: number;
  /**
   * Replayers for the other log kinds (classify, regress, multi_inference), added where
   * their APIs exist; predict_log is always replayed.
   */
  readonly replayers?: Partial<Record<LogKind, LogReplayer>>;
  readonly logger?: LifecycleLogger;
  readonly observe?: WarmupObserver;
}

/**
 * Warms a loading version up before it becomes AVAILABLE (TF Serving's model warmup): replays
 * the records of `<version>/assets.extra/tf_serving_warmup_requests` (each `iterations`
 * times), or, when the version has no such file, the warmup its config declares; each
 * request goes through the scheduler and the device pool like a client's.
 *
 * Fails (rejects with a ServingError naming the file and the record index, or the declared
 * entry) on a corrupt file, more than `maxRecords` records, a record of a kind without a
 * replayer, a failing request, or `timeoutMs` passing. Errors that retrying cannot fix are
 * marked permanent. Logs and observes every warmup.
 */
export class WarmupRunner {
  private readonly replayers: Partial<Record<LogKind, LogReplayer>>;
  private readonly logger: LifecycleLogger;

  constructor(private readonly opts: WarmupRunnerOptions) {
    this.replayers = { ...opts.replayers, predict_log: predictReplayer(opts.run) };
    this.logger = opts.logger ?? silentLogger;
  }

  async run(target: WarmupTarget): Promise<WarmupResult> {
    const started = performance.now();
    const o = target.options;
    const fields = { model: target.model, version: target.version };
    if (!o.enabled) return { source: 'disabled', requests: 0, millis: 0 };
    const clock = this.opts.clock;
    const replay: ReplayTarget = {
      model: target.model,
      version: target.version,
      platform: target.platform,
      key: target.key,
      signature: target.signature,
      exampleSignatures: target.exampleSignatures,
      maxTensorElements: this.opts.maxTensorElements,
      deadline: o.timeoutMs > 0 ? clock.now() + o.timeoutMs : undefined,
    };
    const counter = { requests: 0 };
    let source: WarmupResult['source'] = 'none';
    try {
      const file = path.join(target.versionDir, WARMUP_FILE);
      const bytes = await readWarmupFile(file, target);
      if (bytes !== undefined) {
        source = 'file';
        await this.replayFile(bytes, target, replay, counter);
      } else if (o.declared.length > 0) {
        source = 'declared';
        await this.replayDeclared(target, replay, counter);
      }
    } catch (err) {
      const e = err instanceof ServingError ? err : asServingError(err);
      const millis = performance.now() - started;
      this.logger.error(
        { ...fields, source, requests: counter.requests, warmup_ms: Math.round(millis), code: e.code },
        `model version warmup failed: ${e.message}`,
      );
      this.opts.observe?.(target, { source, requests: counter.requests, millis }, e.code);
      throw e;
    }
    const result = { source, requests: counter.requests, millis: performance.now() - started };
    if (source !== 'none') {
      this.logger.info(
        { ...fields, source, requests: result.requests, warmup_ms: Math.round(result.millis) },
        'model version warmup',
      );
    }
    this.opts.observe?.(target, result, 'OK');
    return result;
  }

  private async replayFile(
    bytes: Uint8Array,
    target: WarmupTarget,
    replay: ReplayTarget,
    counter: { requests: number },
  ): Promise<void> {
    const what = fileName(target);
    const records = readTfRecords(bytes, { maxRecords: target.options.maxRecords, what });
    // Decode everything first: a corrupt record fails the load before anything runs.
    const logs: PredictionLogRecord[] = records.map((r, i) => decodePredictionLog(r, `${what}: record ${i}`));
    for (let i = 0; i < logs.length; i++) {
      for (let k = 0; k < target.options.iterations; k++) {
        await step(replay, this.opts.clock.now(), `${what}: record ${i}`, () =>
          replayRecord(logs[i], replay, this.replayers),
        );
        counter.requests++;
      }
    }
  }

  private async replayDeclared(
    target: WarmupTarget,
    replay: ReplayTarget,
    counter: { requests: number },
  ): Promise<void> {
    const declared = target.options.declared;
    for (let i = 0; i < declared.length; i++) {
      const d = declared[i];
      const sizes = target.signature.batched ? d.batchSizes : [1];
      for (const batchSize of sizes) {
        const where = `declared warmup ${i} (batch size ${batchSize}) of model '${target.model}' version ${target.version}`;
        for (let k = 0; k < d.count; k++) {
          await step(replay, this.opts.clock.now(), where, async () => {
            const inputs = generateInputs({
              signature: target.signature,
              batchSize,
              data: d.data,
              dims: d.dims,
              where,
            });
            await this.opts.run(replay, inputs);
          });
          counter.requests++;
        }
      }
    }
  }
}

function fileName(target: WarmupTarget): string {
  return `warmup file ${WARMUP_FILE} of model '${target.model}' version ${target.version}`;
}

/** The file's bytes; undefined when the version has none. Other read errors are UNAVAILABLE (retried). */
async function readWarmupFile(file: string, target: WarmupTarget): Promise<Uint8Array | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ServingError('UNAVAILABLE', `Cannot read the ${fileName(target)}: ${code ?? 'I/O error'}`, {
      cause: err,
    });
  }
}

/** Runs one warmup request; its failure becomes the load's error, prefixed with `where`. */
async function step(
  replay: ReplayTarget,
  now: number,
  where: string,
  run: () => Promise<void>,
): Promise<void> {
  if (replay.deadline !== undefined && replay.deadline <= now) {
    throw new ServingError('DEADLINE_EXCEEDED', `${where}: warmup_timeout_ms passed before this request`);
  }
  try {
    await run();
  } catch (err) {
    const e = asServingError(err);
    const permanent = e.permanent || PERMANENT_CODES.has(e.code);
    throw new ServingError(e.code, `${where} failed: ${e.message}`, { cause: err, permanent });
  }
}

/** Request failures no retry can fix (the record itself is wrong for the model). */
const PERMANENT_CODES = new Set<string>([
  'INVALID_ARGUMENT',
  'UNIMPLEMENTED',
  'FAILED_PRECONDITION',
  'OUT_OF_RANGE',
]);

function asServingError(err: unknown): ServingError {
  if (err instanceof ServingError) return err;
  if (isServingErrorLike(err)) return ServingError.from(err);
  return new ServingError('INTERNAL', `warmup failed: ${errorMessage(err)}`, { cause: err });
}

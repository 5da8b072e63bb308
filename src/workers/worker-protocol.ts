import type { BatchTimings } from '../batching/executor.js';
import type { ErrorCode } from '../core/errors.js';
import type { Platform } from '../core/platform.js';
import type { Signature } from '../core/signature.js';
import type { WireTensorMap } from './tensor-transfer.js';

/**
 * Messages between a DevicePool (main thread) and its worker entry (`worker.ts`). Every
 * task is one piscina task; every reply is the task's resolved value. A worker never
 * rejects a task on purpose: runtime failures come back as `{ ok: false }`, so a rejected
 * piscina promise always means the thread died (or the pool was destroyed).
 */

/** Fixed for the life of a worker thread; passed as piscina `workerData`. */
export interface WorkerConfig {
  readonly device: string;
  readonly intraOpThreads: number;
  /** ORT inter-op threads (absent = 1). */
  readonly interOpThreads?: number;
  /** File URL of a module exporting `loadRuntime(platform): Promise<Runtime>`. */
  readonly runtimeModule: string;
  /** Lowest pino level number the worker's own log lines are written at. */
  readonly logLevel: number;
  /** Measure each load's memory (runtime figure, else RSS delta); absent = true. */
  readonly measureMemory?: boolean;
}

/** Everything a worker needs to (re)load a model version on its own. */
export interface ModelDescriptor {
  readonly key: string;
  readonly platform: Platform;
  readonly path: string;
  /** How errors name the model version to clients (ModelPlacement.label, resolved). */
  readonly label: string;
  /** ModelPlacement.evictable, resolved. */
  readonly evictable: boolean;
}

export interface LoadTask {
  readonly kind: 'load';
  readonly model: ModelDescriptor;
}

export interface UnloadTask {
  readonly kind: 'unload';
  readonly key: string;
}

/**
 * One closed batch. Carries the model's descriptor so a replacement worker that lacks
 * the session loads it before running (the reply then says `loaded: true`).
 */
export interface RunTask {
  readonly kind: 'run';
  readonly model: ModelDescriptor;
  /** Arrives in transferred buffers (strings packed); `receiveTransfer` unpacks it. */
  readonly inputs: WireTensorMap;
  readonly outputNames: readonly string[];
}

export type WorkerTask = LoadTask | UnloadTask | RunTask;

export interface LoadReply {
  readonly ok: true;
  readonly signature: Signature;
  /** Measured by the runtime; undefined when it cannot measure. */
  readonly memoryBytes: number | undefined;
  /** False when the session was already loaded on this worker (load is idempotent). */
  readonly loaded: boolean;
}

export interface UnloadReply {
  readonly ok: true;
}

export interface RunReply {
  readonly ok: true;
  /** Arrives in transferred buffers (strings packed); `receiveTransfer` unpacks it. */
  readonly outputs: WireTensorMap;
  readonly timings: BatchTimings;
  /** True when this task had to load the session first (replacement worker). */
  readonly loaded: boolean;
}

/** A runtime failure that did not kill the worker; `code` is a ServingError code. */
export interface ErrorReply {
  readonly ok: false;
  /** `permanent`: a load error retrying cannot fix (see ServingErrorOptions.permanent). */
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly permanent?: boolean };
}

export type ReplyOf<T extends WorkerTask> = T extends LoadTask
  ? LoadReply | ErrorReply
  : T extends RunTask
    ? RunReply | ErrorReply
    : UnloadReply | ErrorReply;

import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { errorMessage, isServingErrorLike, ServingError } from '../core/errors.js';
import type { Platform } from '../core/platform.js';
import type { LoadedModel, Runtime } from './runtime.js';
import { prepareTransfer, receiveTransfer } from './tensor-transfer.js';
import { setConsoleLogLevel } from './worker-log.js';
import type {
  ErrorReply,
  LoadReply,
  ModelDescriptor,
  RunReply,
  RunTask,
  UnloadReply,
  WorkerConfig,
  WorkerTask,
} from './worker-protocol.js';

/**
 * The worker entry: piscina calls the default export with one WorkerTask at a time
 * (concurrentTasksPerWorker is 1). The worker owns the inference sessions placed on it and
 * nothing else. Runtime failures are returned as `{ ok: false }`; only a dying thread makes
 * the pool's promise reject.
 */

const config = workerData as WorkerConfig;
setConsoleLogLevel(config.logLevel);
const runtimes = new Map<Platform, Promise<Runtime>>();
const sessions = new Map<string, Promise<LoadedModel>>();

type RuntimeModule = { loadRuntime(platform: Platform): Promise<Runtime> };

export default async function handle(task: WorkerTask): Promise<unknown> {
  try {
    switch (task.kind) {
      case 'load':
        return await load(task.model);
      case 'unload':
        return await unload(task.key);
      case 'run':
        return await run(task);
    }
  } catch (err) {
    return errorReply(task, err);
  }
}

async function load(model: ModelDescriptor): Promise<LoadReply> {
  const existing = sessions.get(model.key);
  const loaded = existing === undefined;
  const session = existing ?? startLoad(model);
  const { signature, memoryBytes } = await session;
  return {
    ok: true,
    signature,
    memoryBytes: config.measureMemory === false ? undefined : (memoryBytes ?? rssDeltas.get(model.key)),
    loaded,
  };
}

/** RSS added by loads whose runtime cannot measure itself (onnxruntime), by key. */
const rssDeltas = new Map<string, number>();

function startLoad(model: ModelDescriptor): Promise<LoadedModel> {
  const session = runtimeFor(model.platform).then(async (runtime) => {
    // This worker runs one task at a time, so the delta is this load's, plus whatever other
    // threads allocated meanwhile (README: "Measured memory").
    await runtime.prime?.();
    const before = process.memoryUsage.rss();
    const m = await runtime.load(model.path, {
      device: config.device,
      intraOpThreads: config.intraOpThreads,
      interOpThreads: config.interOpThreads,
      evictable: model.evictable,
    });
    if (m.memoryBytes === undefined)
      rssDeltas.set(model.key, Math.max(0, process.memoryUsage.rss() - before));
    return m;
  });
  sessions.set(model.key, session);
  // A failed load leaves nothing behind, so a later task may try again.
  session.catch(() => {
    if (sessions.get(model.key) === session) sessions.delete(model.key);
  });
  return session;
}

function runtimeFor(platform: Platform): Promise<Runtime> {
  let runtime = runtimes.get(platform);
  if (runtime === undefined) {
    runtime = (import(config.runtimeModule) as Promise<RuntimeModule>)
      .then((m) => m.loadRuntime(platform))
      .catch((err: unknown) => {
        if (isServingErrorLike(err)) throw err;
        // A runtime package that is missing or does not load cannot be fixed by retrying.
        throw new ServingError(
          'FAILED_PRECONDITION',
          `The ${platform} runtime cannot be loaded: ${errorMessage(err)}`,
          { cause: err, permanent: true },
        );
      });
    runtimes.set(platform, runtime);
    runtime.catch(() => runtimes.delete(platform));
  }
  return runtime;
}

async function unload(key: string): Promise<UnloadReply> {
  const session = sessions.get(key);
  sessions.delete(key);
  rssDeltas.delete(key);
  if (session !== undefined) {
    const model = await session.catch(() => undefined);
    await model?.dispose();
  }
  return { ok: true };
}

async function run(task: RunTask): Promise<unknown> {
  const existing = sessions.get(task.model.key);
  const model = await (existing ?? startLoad(task.model));
  const t0 = performance.now();
  // Inputs arrive in transferred buffers: numeric arrays as is, strings as views into their pack.
  const inputs = receiveTransfer(task.inputs);
  const t1 = performance.now();
  const outputs = await model.run(inputs, task.outputNames);
  const t2 = performance.now();
  const { tensors, transferList } = prepareTransfer(outputs);
  const t3 = performance.now();
  const reply: RunReply = {
    ok: true,
    outputs: tensors,
    timings: {
      computeInputMicros: micros(t1 - t0),
      computeInferMicros: micros(t2 - t1),
      computeOutputMicros: micros(t3 - t2),
    },
    loaded: existing === undefined,
  };
  return Piscina.move({ [Piscina.transferableSymbol]: transferList, [Piscina.valueSymbol]: reply } as never);
}

function micros(ms: number): number {
  return Math.round(ms * 1000);
}

function errorReply(task: WorkerTask, err: unknown): ErrorReply {
  if (isServingErrorLike(err)) {
    const permanent = (err as { permanent?: unknown }).permanent === true;
    return {
      ok: false,
      error: { code: err.code, message: err.message, ...(permanent ? { permanent } : {}) },
    };
  }
  const label = task.kind === 'unload' ? `model '${task.key}'` : task.model.label;
  const verb = task.kind === 'run' ? 'running' : task.kind === 'load' ? 'loading' : 'unloading';
  return {
    ok: false,
    error: { code: 'INTERNAL', message: `Error ${verb} ${label}: ${errorMessage(err)}` },
  };
}

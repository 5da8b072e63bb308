import { BATCHING_OFF } from '../../../src/batching/batching-options.js';
import type { Clock } from '../../../src/core/clock.js';
import type { ModelConfig } from '../../../src/main/config/model-config.js';
import type { LoadedVersion, VersionLoader } from '../../../src/main/lifecycle/loader.js';
import type { DirEntry, ListDir } from '../../../src/main/lifecycle/source.js';

/** Lets every pending promise continuation and queued microtask run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A clock whose time only moves when the test says so. */
export class FakeClock implements Clock {
  private time = 1_000_000;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; cb: () => void }>();

  now(): number {
    return this.time;
  }

  setTimer(cb: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), cb });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order and flushing promises after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].cb();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

export const SIGNATURE = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 2] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }],
  batched: true,
  methodName: 'tensorflow/serving/predict',
} as const satisfies LoadedVersion['signature'];

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

/**
 * A VersionLoader that records its calls. `failures` makes the next N loads of `m:v` fail
 * (Infinity: always); `gate(id)` holds loads of `m:v` until `open(id)`.
 */
export class FakeLoader implements VersionLoader {
  readonly loadCalls: string[] = [];
  readonly unloadCalls: string[] = [];
  readonly dirs = new Map<string, string>();
  readonly loaded = new Set<string>();
  readonly failures = new Map<string, { times: number; error: unknown }>();
  private readonly gates = new Map<string, Deferred>();

  gate(id: string): void {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.gates.set(id, { promise, resolve });
  }

  open(id: string): void {
    this.gates.get(id)?.resolve();
    this.gates.delete(id);
  }

  failNext(id: string, times: number, error: unknown = new Error(`cannot load ${id}`)): void {
    this.failures.set(id, { times, error });
  }

  async load(model: ModelConfig, version: number, versionDir: string): Promise<LoadedVersion> {
    const id = `${model.name}:${version}`;
    this.loadCalls.push(id);
    this.dirs.set(id, versionDir);
    await this.gates.get(id)?.promise;
    const failure = this.failures.get(id);
    if (failure !== undefined && failure.times > 0) {
      failure.times--;
      throw failure.error;
    }
    this.loaded.add(id);
    return { key: `${id}#key`, platform: 'onnx', signature: SIGNATURE, memoryBytes: 1000 * version };
  }

  async unload(model: ModelConfig, version: number, loaded: LoadedVersion): Promise<void> {
    const id = `${model.name}:${version}`;
    if (loaded.key !== `${id}#key`) throw new Error(`unload of ${id} got key ${loaded.key}`);
    this.unloadCalls.push(id);
    this.loaded.delete(id);
  }
}

/** An in-memory file system of model base paths: path → version directory names. */
export class FakeDirs {
  readonly paths = new Map<string, string[]>();

  set(path: string, names: string[]): void {
    this.paths.set(path, names);
  }

  readonly listDir: ListDir = async (path) => {
    const names = this.paths.get(path);
    if (names === undefined)
      throw Object.assign(new Error(`ENOENT: no such file or directory, scandir '${path}'`), {
        code: 'ENOENT',
      });
    return names.map((name): DirEntry => ({ name, isDirectory: true }));
  };
}

export function modelConfig(name: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    name,
    basePath: `/models/${name}`,
    platform: undefined,
    versionPolicy: { kind: 'latest', numVersions: 1 },
    versionLabels: {},
    device: 'cpu',
    instances: 0,
    batching: BATCHING_OFF,
    loadRetries: 0,
    loadRetryIntervalMs: 1000,
    tenant: undefined,
    ...overrides,
  };
}

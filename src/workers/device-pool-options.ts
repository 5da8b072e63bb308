import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Minimal logger (pino-compatible) the pool reports worker crashes to. */
export interface PoolLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DevicePoolOptions {
  /** `cpu` or `cuda:N`. */
  readonly device: string;
  /** Worker threads; each holds its own sessions. */
  readonly workers: number;
  /** Threads one inference may use inside a worker (ORT intra-op threads). */
  readonly intraOpThreads: number;
  /** Threads one inference may run independent graph nodes on (ORT inter-op threads; default 1). */
  readonly interOpThreads?: number;
  /**
   * Absolute path or file URL of a module exporting `loadRuntime(platform)`. Defaults to
   * the real runtimes (`./runtimes/index.js`); tests plug in a fake.
   */
  readonly runtimeModule?: string | URL;
  readonly logger?: PoolLogger;
  /**
   * Lowest pino level number (30 info, 40 warn, ...; Infinity silent) the workers' own log
   * lines are written at; default 30.
   */
  readonly logLevel?: number;
  /** Monotonic clock in milliseconds, for busy-time statistics. Defaults to `performance.now`. */
  readonly now?: () => number;
  /**
   * Measure what each load adds (default true): the runtime's own figure (tfjs backend bytes),
   * else the worker process's RSS delta around the load. False: report no measurement.
   */
  readonly measureMemory?: boolean;
}

export interface ResolvedPoolOptions {
  readonly device: string;
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  /** A file URL string. */
  readonly runtimeModule: string;
  readonly logger: PoolLogger | undefined;
  readonly logLevel: number;
  readonly now: () => number;
  readonly measureMemory: boolean;
}

const DEVICE_NAME = /^(cpu|cuda:\d+)$/;
const DEFAULT_RUNTIME_MODULE = new URL('./runtimes/index.js', import.meta.url).href;

/** Validates options; messages name the option as the config file spells it. Throws TypeError. */
export function resolvePoolOptions(options: DevicePoolOptions): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('device pool options must be an object');
  const { device } = options;
  if (typeof device !== 'string' || !DEVICE_NAME.test(device)) {
    throw new TypeError(`device must be 'cpu' or 'cuda:N', got ${JSON.stringify(device)}`);
  }
  if (!isPositiveInt(options.workers))
    throw new TypeError(`devices.${device}.workers must be a positive integer`);
  if (!isPositiveInt(options.intraOpThreads)) {
    throw new TypeError(`devices.${device}.intraOpThreads must be a positive integer`);
  }
  if (options.interOpThreads !== undefined && !isPositiveInt(options.interOpThreads)) {
    throw new TypeError(`devices.${device}.interOpThreads must be a positive integer`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError(`devices.${device}.now must be a function`);
  }
  return Object.freeze({
    device,
    workers: options.workers,
    intraOpThreads: options.intraOpThreads,
    interOpThreads: options.interOpThreads ?? 1,
    runtimeModule: resolveRuntimeModule(device, options.runtimeModule),
    logger: options.logger,
    logLevel: options.logLevel ?? 30,
    now: options.now ?? (() => performance.now()),
    measureMemory: options.measureMemory ?? true,
  });
}

function resolveRuntimeModule(device: string, value: string | URL | undefined): string {
  if (value === undefined) return DEFAULT_RUNTIME_MODULE;
  if (value instanceof URL && value.protocol === 'file:') return value.href;
  if (typeof value === 'string' && value.startsWith('file:')) return new URL(value).href;
  if (typeof value === 'string' && isAbsolute(value)) return pathToFileURL(value).href;
  throw new TypeError(`devices.${device}.runtimeModule must be an absolute path or a file URL`);
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

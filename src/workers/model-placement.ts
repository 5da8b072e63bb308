import { ServingError } from '../core/errors.js';
import { PLATFORMS, type Platform } from '../core/platform.js';
import type { Signature } from '../core/signature.js';
import type { ModelDescriptor } from './worker-protocol.js';

/** Where and how to load one model version on a device. */
export interface ModelPlacement {
  /** Unique per model version, e.g. `tenant/model:3`; names the version in errors. */
  readonly key: string;
  readonly platform: Platform;
  /** The version directory. */
  readonly path: string;
  /** Workers holding a session: 0 (or ≥ the worker count) means all of them. */
  readonly instances: number;
  /**
   * How errors shown to clients name the model version, e.g. `model 'f' version 1`;
   * defaults to `model '<key>'`. Keys are internal and never meant for clients.
   */
  readonly label?: string;
  /**
   * The version may be unloaded to make room (an on-demand model under a budget): runtimes give
   * up per-session allocator caches so that unloading returns the memory (onnxruntime: CPU
   * memory arena and memory pattern off). Absent = false.
   */
  readonly evictable?: boolean;
}

export interface LoadedPlacement {
  readonly signature: Signature;
  /**
   * Memory measured on the device for all instances together (each worker has its own copy);
   * undefined when any instance's runtime could not measure it.
   */
  readonly memoryBytes: number | undefined;
}

/** Checks a placement and returns the descriptor workers load from. Throws INVALID_ARGUMENT. */
export function validatePlacement(p: ModelPlacement): ModelDescriptor {
  const bad = (msg: string) => new ServingError('INVALID_ARGUMENT', `Invalid model placement: ${msg}`);
  if (typeof p !== 'object' || p === null) throw bad('placement must be an object');
  if (typeof p.key !== 'string' || p.key === '') throw bad('key must be a non-empty string');
  if (!PLATFORMS.includes(p.platform)) throw bad(`platform must be one of ${PLATFORMS.join(', ')}`);
  if (typeof p.path !== 'string' || p.path === '') throw bad('path must be a non-empty string');
  if (!Number.isInteger(p.instances) || p.instances < 0)
    throw bad('instances must be a non-negative integer');
  if (p.label !== undefined && (typeof p.label !== 'string' || p.label === ''))
    throw bad('label must be a non-empty string');
  if (p.evictable !== undefined && typeof p.evictable !== 'boolean') throw bad('evictable must be a boolean');
  const label = p.label ?? `model '${p.key}'`;
  const evictable = p.evictable === true;
  return Object.freeze({ key: p.key, platform: p.platform, path: p.path, label, evictable });
}

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '../../../src/core/tensor.js';
import { DevicePool } from '../../../src/workers/device-pool.js';
import type { FakeModelSpec } from '../../fixtures/fake-runtime.js';

/** Helpers shared by the device pool tests (not a test file itself). */

export const FAKE_RUNTIME = new URL('../../fixtures/fake-runtime.js', import.meta.url);

export function fakePool(workers: number, now?: () => number): DevicePool {
  return new DevicePool({ device: 'cpu', workers, intraOpThreads: 1, runtimeModule: FAKE_RUNTIME, now });
}

/** A fresh version directory for the fake runtime. */
export function modelDir(spec: FakeModelSpec = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tensorserve-pool-'));
  writeFileSync(join(dir, 'fake.json'), JSON.stringify(spec));
  return dir;
}

/** Thread ids that loaded (or disposed) a session of the model in `dir`. */
export function logLines(dir: string, name: 'loads.log' | 'disposes.log'): number[] {
  try {
    return readFileSync(join(dir, name), 'utf8').trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function x(values: number[], rows = 1): Tensor {
  return { dtype: 'float32', shape: [rows, values.length / rows], data: Float32Array.from(values) };
}

/** Resolves once `n` workers are free (after recoveries and loads settle). */
export function untilFree(pool: DevicePool, n: number): Promise<void> {
  return new Promise((resolve) => {
    const off = pool.onSlotFree(check);
    function check() {
      if (pool.freeSlots() >= n) {
        off();
        resolve();
      }
    }
    check();
  });
}

import type { Platform } from '../../core/platform.js';
import type { Runtime } from '../runtime.js';
import type { RuntimeLogger } from '../worker-log.js';

/**
 * The runtime for a platform. Each runtime module is imported on first use, so a worker
 * that serves only ONNX never loads tfjs (and vice versa). Instances are cached per
 * platform; call from worker threads. `log` (pino fits) receives the tfjs backend choice.
 */
const cache = new Map<Platform, Promise<Runtime>>();

export function loadRuntime(platform: Platform, log?: RuntimeLogger): Promise<Runtime> {
  let runtime = cache.get(platform);
  if (!runtime) {
    runtime = create(platform, log);
    cache.set(platform, runtime);
    runtime.catch(() => cache.delete(platform));
  }
  return runtime;
}

async function create(platform: Platform, log: RuntimeLogger | undefined): Promise<Runtime> {
  switch (platform) {
    case 'onnx': {
      const { OnnxRuntime } = await import('./onnx.js');
      return new OnnxRuntime();
    }
    case 'tfjs':
    case 'tensorflow': {
      const { TfjsRuntime } = await import('./tfjs.js');
      return new TfjsRuntime(platform, log);
    }
  }
}

import { execFileSync } from 'node:child_process';

/**
 * Total memory of GPU `index` in bytes, or undefined when it cannot be found out. Used by
 * `--per_process_gpu_memory_fraction`.
 */
export type GpuTotalMemory = (index: number) => number | undefined;

/** How long nvidia-smi may take before the answer counts as unknown. */
const NVIDIA_SMI_TIMEOUT_MS = 10_000;

/**
 * Asks `nvidia-smi` (when installed) for the GPU's total memory (it reports MiB). Any
 * failure (no nvidia-smi, no such GPU, unparsable output) is undefined.
 */
export const nvidiaSmiTotalMemory: GpuTotalMemory = (index) => {
  try {
    const out = execFileSync(
      'nvidia-smi',
      [`--id=${index}`, '--query-gpu=memory.total', '--format=csv,noheader,nounits'],
      { encoding: 'utf8', timeout: NVIDIA_SMI_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const mib = Number(out.trim().split('\n')[0]);
    return Number.isFinite(mib) && mib > 0 ? Math.round(mib * 1024 * 1024) : undefined;
  } catch {
    return undefined;
  }
};

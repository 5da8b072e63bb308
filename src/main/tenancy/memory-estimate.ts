import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Sub-directories of a version that are never loaded into memory (TF Serving's warmup data). */
const NOT_LOADED = new Set(['assets.extra']);

/**
 * Estimated memory of a model version before loading: the total size of the files in its
 * version directory (weights dominate), recursively, skipping `assets.extra`. The loader
 * passes it to `MemoryBudget.reserve`; rejects when the directory cannot be read.
 */
export async function estimateModelBytes(versionDir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(versionDir, { withFileTypes: true })) {
    const full = path.join(versionDir, entry.name);
    if (entry.isDirectory()) {
      if (!NOT_LOADED.has(entry.name)) total += await estimateModelBytes(full);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      const s = await stat(full);
      if (s.isFile()) total += s.size;
    }
  }
  return total;
}

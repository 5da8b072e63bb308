import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds the repository's `protos/` directory by walking up from this module, so it works
 * from `src/` (ts runners) and from any build output directory (`dist/`, `.build/x/`).
 * `TENSORSERVE_PROTO_DIR` overrides the search.
 */
export function findProtoDir(start = path.dirname(fileURLToPath(import.meta.url))): string {
  const override = process.env['TENSORSERVE_PROTO_DIR'];
  if (override) return path.resolve(override);
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'protos');
    if (existsSync(path.join(candidate, 'tensorflow_serving', 'apis', 'predict.proto'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the protos/ directory above ${start}`);
    dir = parent;
  }
}

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DevicePool } from '../../../src/workers/device-pool.js';

/** The example model repository: `$TENSORSERVE_TEST_MODELS`, else `models/` at the repo root. */
function modelsDir(): string {
  if (process.env.TENSORSERVE_TEST_MODELS) return process.env.TENSORSERVE_TEST_MODELS;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  // Compiled tests live under an output dir that has no package.json of its own.
  return join(dir, 'models');
}

const versionDir = join(modelsDir(), 'half_plus_two', '1');
const runtimeIndex = new URL('../../../src/workers/runtimes/index.js', import.meta.url);
const skip = !existsSync(join(versionDir, 'model.onnx'))
  ? `${versionDir}/model.onnx is absent (run \`npm run generate-models\`)`
  : !existsSync(fileURLToPath(runtimeIndex))
    ? 'src/workers/runtimes/index.ts is not built'
    : false;

describe('DevicePool with the real ONNX runtime', () => {
  it('loads half_plus_two on two workers and runs a batch', { skip }, async (t) => {
    const pool = new DevicePool({ device: 'cpu', workers: 2, intraOpThreads: 1 });
    t.after(() => pool.close());
    const loaded = await pool.load({
      key: 'half_plus_two:1',
      platform: 'onnx',
      path: versionDir,
      instances: 0,
    });
    assert.deepEqual(
      loaded.signature.inputs.map((s) => [s.name, s.dtype]),
      [['x', 'float32']],
    );
    // Measured as each worker's RSS delta around its load; onnxruntime's own start-up
    // (about 26 MiB, primed before the first load) is not charged to the model.
    assert.equal(typeof loaded.memoryBytes, 'number');
    assert.ok(loaded.memoryBytes! < 16 * 2 ** 20, `${loaded.memoryBytes} bytes for a 216-byte model`);
    const input = Float32Array.from([1, 2, 5]);
    const result = await pool.run('half_plus_two:1', { x: { dtype: 'float32', shape: [3], data: input } }, [
      'y',
    ]);
    assert.equal(input.byteLength, 0);
    assert.deepEqual([...(result.outputs.y.data as Float32Array)], [2.5, 3, 4.5]);
    assert.deepEqual(result.outputs.y.shape, [3]);
    await pool.unload('half_plus_two:1');
  });
});

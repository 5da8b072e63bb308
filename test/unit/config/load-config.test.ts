import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/main/config/config-error.js';
import { buildConfig, loadConfigFile } from '../../../src/main/config/load-config.js';

function problemsOf(raw: unknown): readonly string[] {
  try {
    buildConfig(raw, 'test', '/base');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config validation', () => {
  it('fills defaults, resolves paths and freezes the result', () => {
    const c = buildConfig({ models: [{ name: 'm', base_path: 'models/m' }] }, 'test', '/base');
    assert.equal(c.restPort, 8501);
    assert.equal(c.grpcPort, 8500);
    assert.equal(c.pollIntervalMs, 1000);
    assert.equal(c.models[0].basePath, '/base/models/m');
    assert.deepEqual(c.models[0].versionPolicy, { kind: 'latest', numVersions: 1 });
    assert.equal(c.models[0].device, 'cpu');
    assert.equal(c.models[0].loadRetries, 5);
    assert.equal(c.devices[0].name, 'cpu');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.models[0]) && Object.isFrozen(c.models[0].batching));
  });

  it('names the exact path and rule of a bad value', () => {
    const problems = problemsOf({
      models: [
        { name: 'a', base_path: 'a' },
        { name: 'b', base_path: 'b', version_policy: { latest: { num_versions: 0 } } },
      ],
    });
    assert.deepEqual(problems, ['models[1].version_policy.latest.num_versions must be >= 1']);
  });

  it('reports unknown keys, missing keys and wrong types together', () => {
    const problems = problemsOf({
      server: { rest_api_port: 'x' },
      models: [{ base_path: 'a', batchsize: 3 }],
    });
    assert.ok(problems.includes('server.rest_api_port must be integer'), problems.join('\n'));
    assert.ok(problems.includes("models[0] must have required property 'name'"), problems.join('\n'));
    assert.ok(problems.includes("models[0] has unknown key 'batchsize'"), problems.join('\n'));
  });

  it('applies model_defaults under per-model values', () => {
    const c = buildConfig(
      {
        model_defaults: { batching: { max_batch_size: 8, batch_timeout_micros: 50 }, load_retries: 2 },
        models: [{ name: 'm', base_path: 'm', batching: { max_batch_size: 16 } }],
      },
      'test',
      '/b',
    );
    assert.equal(c.models[0].batching.maxBatchSize, 16);
    assert.equal(c.models[0].batching.batchTimeoutMicros, 50);
    assert.equal(c.models[0].loadRetries, 2);
  });

  it('checks batching semantics the schema cannot express', () => {
    const problems = problemsOf({
      models: [
        {
          name: 'm',
          base_path: 'm',
          batching: { max_batch_size: 8, allowed_batch_sizes: [4, 2, 8], max_execution_batch_size: 16 },
        },
      ],
    });
    assert.ok(
      problems.some((p) =>
        p.startsWith('models[0].batching.allowed_batch_sizes must be strictly increasing'),
      ),
    );
    assert.ok(problems.includes('models[0].batching.max_execution_batch_size must be <= max_batch_size (8)'));
  });

  it('with large-batch splitting, requires allowed_batch_sizes to end at max_execution_batch_size', () => {
    const model = (batching: Record<string, unknown>) => ({
      models: [{ name: 'm', base_path: 'm', batching }],
    });
    assert.deepEqual(
      problemsOf(
        model({
          max_batch_size: 64,
          allowed_batch_sizes: [8, 64],
          enable_large_batch_splitting: true,
          max_execution_batch_size: 16,
        }),
      ),
      [
        'models[0].batching.allowed_batch_sizes must end with max_execution_batch_size (16) when enable_large_batch_splitting is on',
      ],
    );
    const ok = buildConfig(
      model({
        max_batch_size: 64,
        allowed_batch_sizes: [8, 16],
        enable_large_batch_splitting: true,
        max_execution_batch_size: 16,
      }),
      'test',
      '/b',
    );
    assert.deepEqual(ok.models[0].batching.allowedBatchSizes, [8, 16]);
    assert.equal(ok.models[0].batching.maxExecutionBatchSize, 16);
    // Without splitting the last allowed size is still max_batch_size.
    assert.deepEqual(problemsOf(model({ max_batch_size: 8, allowed_batch_sizes: [2, 4] })), [
      'models[0].batching.allowed_batch_sizes must end with max_batch_size (8)',
    ]);
  });

  it('names the batching field the schema rejects', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ max_batch_size: 0 }, 'models[0].batching.max_batch_size must be >= 1'],
      [{ batch_timeout_micros: -1 }, 'models[0].batching.batch_timeout_micros must be >= 0'],
      [{ max_enqueued_batches: 0 }, 'models[0].batching.max_enqueued_batches must be >= 1'],
      [{ num_batch_threads: 1.5 }, 'models[0].batching.num_batch_threads must be integer'],
      [{ allowed_batch_sizes: [0] }, 'models[0].batching.allowed_batch_sizes[0] must be >= 1'],
      [
        { pad_variable_length_inputs: 'yes' },
        'models[0].batching.pad_variable_length_inputs must be boolean',
      ],
      [{ max_execution_batch_size: 0 }, 'models[0].batching.max_execution_batch_size must be >= 1'],
      [{ bogus: 1 }, "models[0].batching has unknown key 'bogus'"],
    ];
    for (const [batching, expected] of cases) {
      const problems = problemsOf({ models: [{ name: 'm', base_path: 'm', batching }] });
      assert.ok(problems.includes(expected), `${JSON.stringify(batching)} -> ${problems.join(' | ')}`);
    }
  });

  it('rejects duplicate names, unknown devices and labels outside a specific policy', () => {
    const problems = problemsOf({
      models: [
        { name: 'm', base_path: 'a' },
        { name: 'm', base_path: 'b', device: 'cuda:0' },
        {
          name: 'n',
          base_path: 'n',
          version_policy: { specific: { versions: [1] } },
          version_labels: { stable: 2 },
        },
      ],
    });
    assert.ok(problems.includes("models[1].name 'm' is already used by models[0]"));
    assert.ok(problems.includes("models[1].device 'cuda:0' is not configured under devices"));
    assert.ok(problems.some((p) => p.startsWith('models[2].version_labels.stable points at version 2')));
  });

  it('loads YAML from a file and resolves paths against its directory', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ts-config-'));
    const file = path.join(dir, 'server.yaml');
    writeFileSync(file, 'server:\n  rest_api_port: 0\nmodels:\n  - name: m\n    base_path: ./m\n');
    const c = loadConfigFile(file);
    assert.equal(c.restPort, 0);
    assert.equal(c.models[0].basePath, path.join(dir, 'm'));
  });

  it('reports YAML syntax errors as a ConfigError', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ts-config-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'models: [\n');
    assert.throws(() => loadConfigFile(file), ConfigError);
  });
});

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BATCHING_OFF } from '../../../src/batching/batching-options.js';
import { ServingError } from '../../../src/core/errors.js';
import {
  FALLBACK_MODEL_SETTINGS,
  type ModelConfigObject,
  modelServerConfigToModels,
} from '../../../src/main/config/model-server-objects.js';

function list(...config: ModelConfigObject[]) {
  return { config: 'model_config_list' as const, model_config_list: { config } };
}

function expectError(code: string, fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ServingError);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('modelServerConfigToModels', () => {
  it('converts names, paths, platforms, policies and labels', () => {
    const models = modelServerConfigToModels(
      list(
        {
          name: 'half_plus_two',
          base_path: '/models/half_plus_two',
          model_platform: 'tensorflow',
          model_version_policy: { policy_choice: 'specific', specific: { versions: ['2', '1', '2'] } },
          version_labels: { stable: '1', canary: '2' },
        },
        { name: 'b', base_path: 'rel/b', model_version_policy: { policy_choice: 'all', all: {} } },
        {
          name: 'c',
          base_path: '/c',
          model_platform: 'onnx',
          model_version_policy: { latest: { num_versions: 3 } },
        },
        { name: 'd', base_path: '/d' },
      ),
      undefined,
      '/srv',
    );
    assert.deepEqual(
      models.map((m) => [m.name, m.basePath, m.platform, m.versionPolicy, m.versionLabels]),
      [
        [
          'half_plus_two',
          '/models/half_plus_two',
          undefined, // "tensorflow" means: detect from the files
          { kind: 'specific', versions: [1, 2] },
          { stable: 1, canary: 2 },
        ],
        ['b', path.resolve('/srv', 'rel/b'), undefined, { kind: 'all' }, {}],
        ['c', '/c', 'onnx', { kind: 'latest', numVersions: 3 }, {}],
        ['d', '/d', undefined, { kind: 'latest', numVersions: 1 }, {}],
      ],
    );
    assert.equal(models[0].device, FALLBACK_MODEL_SETTINGS.device);
    assert.ok(Object.isFrozen(models[0]));
  });

  it('takes settings the proto cannot carry from the callback, per model', () => {
    const models = modelServerConfigToModels(
      list({ name: 'a', base_path: '/a' }, { name: 'b', base_path: '/b' }),
      (name) =>
        name === 'a'
          ? { ...FALLBACK_MODEL_SETTINGS, device: 'cuda:0', batching: BATCHING_OFF, tenant: 't1' }
          : FALLBACK_MODEL_SETTINGS,
    );
    assert.equal(models[0].device, 'cuda:0');
    assert.equal(models[0].batching, BATCHING_OFF);
    assert.equal(models[0].tenant, 't1');
    assert.equal(models[1].device, 'cpu');
  });

  it('treats latest with num_versions 0 (unset in proto3) as 1, and an empty config as no models', () => {
    const [m] = modelServerConfigToModels(
      list({ name: 'a', base_path: '/a', model_version_policy: { latest: {} } }),
    );
    assert.deepEqual(m.versionPolicy, { kind: 'latest', numVersions: 1 });
    assert.deepEqual(modelServerConfigToModels({}), []);
    assert.deepEqual(modelServerConfigToModels(undefined), []);
  });

  it('rejects what the manager could not realize', () => {
    expectError(
      'INVALID_ARGUMENT',
      () => modelServerConfigToModels(list({ base_path: '/a' })),
      /config\[0\]: missing name/,
    );
    expectError(
      'INVALID_ARGUMENT',
      () => modelServerConfigToModels(list({ name: 'a' })),
      /'a'\): missing base_path/,
    );
    expectError(
      'INVALID_ARGUMENT',
      () => modelServerConfigToModels(list({ name: 'a', base_path: '/a' }, { name: 'a', base_path: '/b' })),
      /config\[1\]: model name 'a' is used more than once/,
    );
    expectError(
      'INVALID_ARGUMENT',
      () => modelServerConfigToModels(list({ name: 'a', base_path: '/a', model_platform: 'pytorch' })),
      /unknown model_platform 'pytorch'/,
    );
    expectError(
      'INVALID_ARGUMENT',
      () =>
        modelServerConfigToModels(
          list({ name: 'a', base_path: '/a', model_version_policy: { specific: { versions: [] } } }),
        ),
      /specific lists no versions/,
    );
    expectError(
      'INVALID_ARGUMENT',
      () =>
        modelServerConfigToModels(
          list({
            name: 'a',
            base_path: '/a',
            model_version_policy: { specific: { versions: ['1'] } },
            version_labels: { x: '2' },
          }),
        ),
      /label 'x' points at version 2, not in the specific policy/,
    );
    expectError(
      'INVALID_ARGUMENT',
      () => modelServerConfigToModels(list({ name: 'a', base_path: '/a', version_labels: { x: '-3' } })),
      /invalid version -3/,
    );
    expectError(
      'UNIMPLEMENTED',
      () =>
        modelServerConfigToModels({ config: 'custom_model_config', custom_model_config: { type_url: 'x' } }),
      /custom_model_config is not supported/,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCHING_OFF } from '../../../src/batching/batching-options.js';
import type { ModelConfig } from '../../../src/main/config/model-config.js';
import { FALLBACK_MODEL_SETTINGS } from '../../../src/main/config/model-server-objects.js';
import type { LoadedVersion } from '../../../src/main/lifecycle/loader.js';
import { type CoreLoader, ServerCore } from '../../../src/main/lifecycle/server-core.js';
import { FakeClock, FakeDirs, FakeLoader, flush, modelConfig } from './fakes.js';

const BIG_BATCHES = { ...BATCHING_OFF, maxBatchSize: 64, maxExecutionBatchSize: 64 };

/** A ServerCore over the fake loader; the loader records keys in the core's registry as the real one does. */
function setup(models: readonly ModelConfig[], toManaged?: (m: ModelConfig) => ModelConfig) {
  const clock = new FakeClock();
  const fake = new FakeLoader();
  const dirs = new FakeDirs();
  const rebatched: string[] = [];
  const core = new ServerCore({
    loader: (registry): CoreLoader => ({
      async load(model, version, dir): Promise<LoadedVersion> {
        const loaded = await fake.load(model, version, dir);
        registry.add(loaded.key, { model: model.name, version, device: model.device, tenant: model.tenant });
        return loaded;
      },
      async unload(model, version, loaded) {
        registry.remove(loaded.key);
        await fake.unload(model, version, loaded);
      },
      rebatch: (model) => rebatched.push(`${model.name}:${model.batching.maxBatchSize}`),
    }),
    models,
    toManaged,
    defaults: (name) => ({ ...FALLBACK_MODEL_SETTINGS, device: `defaults-for-${name}` }),
    pollIntervalMs: 1000,
    clock,
    listDir: dirs.listDir,
  });
  return { clock, fake, dirs, core, rebatched };
}

const names = (models: readonly ModelConfig[]) => models.map((m) => m.name);

describe('ServerCore', () => {
  it('loads the start-up list and registers each loaded key with its model, version, device and tenant', async () => {
    const { dirs, core } = setup([
      modelConfig('a', { device: 'cuda:0' }),
      modelConfig('b', { tenant: 't1' }),
    ]);
    dirs.set('/models/a', ['1', '2']);
    dirs.set('/models/b', ['3']);
    await core.loadInitial();
    assert.deepEqual(core.manager.modelNames(), ['a', 'b']);
    assert.deepEqual(
      core.servables().sort((x, y) => x.key.localeCompare(y.key)),
      [
        { key: 'a:2#key', model: 'a', version: 2, device: 'cuda:0', tenant: undefined },
        { key: 'b:3#key', model: 'b', version: 3, device: 'cpu', tenant: 't1' },
      ],
    );
    assert.deepEqual(core.servable('b:3#key'), { model: 'b', version: 3, device: 'cpu', tenant: 't1' });
    assert.equal(core.servable('nope'), undefined);
  });

  it('a version leaves the registry once it is unloaded (a newer one replaced it)', async () => {
    const { clock, dirs, core, fake } = setup([modelConfig('a')]);
    dirs.set('/models/a', ['1']);
    await core.loadInitial();
    core.manager.start();
    dirs.set('/models/a', ['1', '2']);
    await clock.advance(1000);
    await flush();
    assert.deepEqual(fake.unloadCalls, ['a:1']);
    assert.deepEqual(
      core.servables().map((v) => `${v.model}:${v.version}`),
      ['a:2'],
    );
    core.manager.stop();
  });

  it('reloadModels (gRPC ReloadConfig) serves exactly the new list and keeps the others known', async () => {
    const { dirs, core, fake } = setup([modelConfig('a'), modelConfig('b')]);
    for (const m of ['a', 'b', 'c']) dirs.set(`/models/${m}`, ['1']);
    await core.loadInitial();
    await core.reloadModels([modelConfig('c'), modelConfig('b', { basePath: '/models/b' })]);
    assert.deepEqual(core.manager.modelNames(), ['b', 'c']);
    assert.deepEqual(names(core.configured()), ['a', 'b', 'c']);
    await flush();
    assert.deepEqual(fake.unloadCalls, ['a:1']);
    // The repository still knows `a` (unloaded) and can load it again.
    assert.deepEqual(
      core.repository.index().find((r) => r.name === 'a'),
      { name: 'a', state: 'UNAVAILABLE', reason: 'unloaded' },
    );
    await core.repository.load('a');
    assert.deepEqual(core.manager.modelNames(), ['a', 'b', 'c']);
  });

  it('modelSettings: a known model keeps its own settings; an unknown one gets the defaults', async () => {
    const { core } = setup([modelConfig('a', { device: 'cuda:0', batching: BIG_BATCHES })]);
    assert.equal(core.modelSettings('a').device, 'cuda:0');
    assert.equal(core.modelSettings('a').batching.maxBatchSize, 64);
    assert.equal(core.modelSettings('zz').device, 'defaults-for-zz');
    // A model a reload added is known from then on.
    await core.reloadModels([modelConfig('n', { device: 'cuda:3' })]);
    assert.equal(core.modelSettings('n').device, 'cuda:3');
  });

  it('applyConfig (YAML reload) replaces the list and re-batches only the models whose batching changed', async () => {
    const { dirs, core, rebatched } = setup([modelConfig('a'), modelConfig('b'), modelConfig('c')]);
    for (const m of ['a', 'b', 'c', 'd']) dirs.set(`/models/${m}`, ['1']);
    await core.loadInitial();
    await core.applyConfig([
      modelConfig('a', { batching: BIG_BATCHES }),
      modelConfig('b'),
      modelConfig('d', { batching: BIG_BATCHES }),
    ]);
    assert.deepEqual(rebatched, ['a:64'], 'b is unchanged, d is new, c is gone');
    assert.deepEqual(names(core.configured()), ['a', 'b', 'd']);
    assert.deepEqual(core.manager.modelNames(), ['a', 'b', 'd']);
  });

  it('the repository (KServe load/unload) changes what is served, never the known list', async () => {
    const { dirs, core } = setup([modelConfig('a'), modelConfig('b')]);
    dirs.set('/models/a', ['1']);
    dirs.set('/models/b', ['1']);
    await core.loadInitial();
    await core.repository.unload('a');
    assert.deepEqual(core.manager.modelNames(), ['b']);
    assert.deepEqual(names(core.configured()), ['a', 'b']);
    await core.repository.load('a');
    assert.deepEqual(core.manager.modelNames(), ['a', 'b']);
    await assert.rejects(core.repository.load('zz'), /Model 'zz' is not in the model repository/);
  });

  it('gives every path the manager names of toManaged (tenant models as tenant/name)', async () => {
    const toManaged = (m: ModelConfig) =>
      m.tenant === undefined ? m : { ...m, name: `${m.tenant}/${m.name}` };
    const { dirs, core } = setup([modelConfig('a', { tenant: 't1', basePath: '/models/a' })], toManaged);
    dirs.set('/models/a', ['1']);
    dirs.set('/models/b', ['1']);
    await core.loadInitial();
    assert.deepEqual(core.manager.modelNames(), ['t1/a']);
    await core.reloadModels([modelConfig('b', { tenant: 't2', basePath: '/models/b' })]);
    assert.deepEqual(core.manager.modelNames(), ['t2/b']);
    assert.deepEqual(names(core.configured()), ['t1/a', 't2/b']);
    await core.applyConfig([modelConfig('a', { tenant: 't1', basePath: '/models/a' })]);
    assert.deepEqual(core.manager.modelNames(), ['t1/a']);
    assert.deepEqual(
      core.servables().map((v) => [v.model, v.tenant]),
      [['t1/a', 't1']],
    );
  });
});

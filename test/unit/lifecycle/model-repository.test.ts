import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import type { ModelConfig } from '../../../src/main/config/model-config.js';
import { ServableManager } from '../../../src/main/lifecycle/manager.js';
import { ConfiguredModelRepository } from '../../../src/main/lifecycle/model-repository.js';
import { FakeClock, FakeDirs, FakeLoader, flush, modelConfig } from './fakes.js';

/*
 * The KServe repository extension over a real ServableManager (the lifecycle tests' fake
 * loader and directory listing underneath, so loads can be made to fail): what the index
 * shows, and that load/unload change the served set through the manager.
 */
function setup(configured: ModelConfig[]) {
  const clock = new FakeClock();
  const loader = new FakeLoader();
  const dirs = new FakeDirs();
  const quiet = { info: () => {}, warn: () => {}, error: () => {} };
  const manager = new ServableManager({
    loader,
    clock,
    logger: quiet,
    pollIntervalMs: 0,
    listDir: dirs.listDir,
  });
  const applied: string[][] = [];
  const repository = new ConfiguredModelRepository({
    configured: () => configured,
    served: () => manager.modelNames(),
    status: (name) => manager.status(name),
    apply: (models) => {
      applied.push(models.map((m) => m.name));
      return manager.setModels(models);
    },
  });
  return { loader, dirs, manager, repository, applied };
}

const notInRepository = (name: string) => (err: unknown) => {
  assert.ok(err instanceof ServingError);
  assert.equal(err.code, 'NOT_FOUND');
  assert.equal(err.message, `Model '${name}' is not in the model repository`);
  return true;
};

describe('ConfiguredModelRepository', () => {
  it('indexes every configured model: served versions by state, unserved ones as unloaded', async () => {
    const a = modelConfig('a', { versionPolicy: { kind: 'all' } });
    const b = modelConfig('b');
    const { dirs, manager, repository } = setup([a, b]);
    dirs.set('/models/a', ['1', '2']);
    dirs.set('/models/b', ['1']);
    await manager.setModels([a]);
    assert.deepEqual(repository.index(), [
      { name: 'a', version: '2', state: 'READY', reason: '' },
      { name: 'a', version: '1', state: 'READY', reason: '' },
      { name: 'b', state: 'UNAVAILABLE', reason: 'unloaded' },
    ]);
  });

  it('load() adds the model to the served set in configured order and waits until it serves', async () => {
    const a = modelConfig('a');
    const b = modelConfig('b');
    const { dirs, manager, repository, applied } = setup([a, b]);
    dirs.set('/models/a', ['1']);
    dirs.set('/models/b', ['3']);
    await manager.setModels([b]);
    await repository.load('a');
    assert.deepEqual(applied, [['a', 'b']]);
    assert.deepEqual(manager.modelNames().slice().sort(), ['a', 'b']);
    assert.deepEqual(
      repository.index().map((e) => [e.name, e.version, e.state]),
      [
        ['a', '1', 'READY'],
        ['b', '3', 'READY'],
      ],
    );
  });

  it('unload() removes the model from the served set; it shows as unloaded and can be loaded again', async () => {
    const a = modelConfig('a');
    const b = modelConfig('b');
    const { loader, dirs, manager, repository } = setup([a, b]);
    dirs.set('/models/a', ['1']);
    dirs.set('/models/b', ['1']);
    await manager.setModels([a, b]);
    await repository.unload('a');
    await flush();
    assert.deepEqual(manager.modelNames(), ['b']);
    assert.deepEqual(loader.unloadCalls, ['a:1']);
    assert.deepEqual(repository.index()[0], { name: 'a', state: 'UNAVAILABLE', reason: 'unloaded' });
    await repository.load('a');
    assert.deepEqual(loader.loadCalls, ['a:1', 'b:1', 'a:1']);
    assert.equal(repository.index()[0].state, 'READY');
  });

  it('refuses names that are not configured with NOT_FOUND, changing nothing', async () => {
    const a = modelConfig('a');
    const { dirs, manager, repository, applied } = setup([a]);
    dirs.set('/models/a', ['1']);
    await manager.setModels([a]);
    await assert.rejects(repository.load('nope'), notInRepository('nope'));
    await assert.rejects(repository.unload('nope'), notInRepository('nope'));
    assert.deepEqual(applied, []);
    assert.deepEqual(manager.modelNames(), ['a']);
  });

  it('load() fails with the load error when no version of the model became available', async () => {
    const a = modelConfig('a', { loadRetries: 0 });
    const { loader, dirs, repository } = setup([a]);
    dirs.set('/models/a', ['1']);
    loader.failNext('a:1', Number.POSITIVE_INFINITY, new ServingError('INVALID_ARGUMENT', 'bad graph'));
    await assert.rejects(repository.load('a'), (err: unknown) => {
      assert.ok(err instanceof ServingError);
      assert.equal(err.code, 'INTERNAL');
      assert.equal(err.message, "Failed to load 'a': bad graph");
      return true;
    });
    assert.deepEqual(repository.index(), [
      { name: 'a', version: '1', state: 'UNAVAILABLE', reason: 'bad graph' },
    ]);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../../src/main/config/load-config.js';
import { ServableManager } from '../../../src/main/lifecycle/manager.js';
import { FakeClock, FakeDirs, FakeLoader, flush, modelConfig } from './fakes.js';

function setup() {
  const loader = new FakeLoader();
  const dirs = new FakeDirs();
  const manager = new ServableManager({
    loader,
    clock: new FakeClock(),
    pollIntervalMs: 1000,
    listDir: dirs.listDir,
  });
  return { loader, dirs, manager };
}

function states(manager: ServableManager, name: string): string[] {
  return manager.status(name).map((s) => `${s.version}:${s.state}`);
}

describe('transition policy per model', () => {
  it('a resource-preserving model unloads first while an availability-preserving one loads first', async () => {
    const { loader, dirs, manager } = setup();
    dirs.set('/models/r', ['1']);
    dirs.set('/models/a', ['1']);
    await manager.setModels([
      modelConfig('r', { transitionPolicy: 'resource-preserving' }),
      modelConfig('a'),
    ]);
    const heldR = manager.acquire('r', { kind: 'latest' });
    const heldA = manager.acquire('a', { kind: 'latest' });
    dirs.set('/models/r', ['1', '2']);
    dirs.set('/models/a', ['1', '2']);
    await manager.tick();
    await flush();
    assert.deepEqual(states(manager, 'r'), ['2:START', '1:UNLOADING'], 'r waits for its old version to go');
    assert.deepEqual(states(manager, 'a'), ['2:AVAILABLE', '1:UNLOADING'], 'a loads the new one first');
    assert.ok(!loader.loadCalls.includes('r:2'));
    heldR.release();
    heldA.release();
    await flush();
    assert.deepEqual(states(manager, 'r'), ['2:AVAILABLE', '1:END']);
    assert.deepEqual(states(manager, 'a'), ['2:AVAILABLE', '1:END']);
  });

  it('YAML transition_policy: per model, inherited from model_defaults', () => {
    const config = buildConfig(
      {
        model_defaults: { transition_policy: 'resource-preserving' },
        models: [
          { name: 'x', base_path: '/m/x' },
          { name: 'y', base_path: '/m/y', transition_policy: 'availability-preserving' },
        ],
      },
      'test',
      '/',
    );
    assert.equal(config.models[0].transitionPolicy, 'resource-preserving');
    assert.equal(config.models[1].transitionPolicy, 'availability-preserving');
    assert.throws(
      () =>
        buildConfig(
          { models: [{ name: 'x', base_path: '/m/x', transition_policy: 'fastest' }] },
          'test',
          '/',
        ),
      /transition_policy/,
    );
  });
});

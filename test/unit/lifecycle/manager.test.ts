import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import type { TransitionPolicyName } from '../../../src/main/config/model-config.js';
import { ServableManager, type VersionChangeEvent } from '../../../src/main/lifecycle/manager.js';
import { FakeClock, FakeDirs, FakeLoader, flush, modelConfig } from './fakes.js';

function setup(transitionPolicy?: TransitionPolicyName) {
  const clock = new FakeClock();
  const loader = new FakeLoader();
  const dirs = new FakeDirs();
  const logs: { level: string; fields: object; message: string }[] = [];
  const logger = {
    info: (fields: object, message: string) => logs.push({ level: 'info', fields, message }),
    warn: (fields: object, message: string) => logs.push({ level: 'warn', fields, message }),
    error: (fields: object, message: string) => logs.push({ level: 'error', fields, message }),
  };
  const manager = new ServableManager({
    loader,
    clock,
    logger,
    pollIntervalMs: 1000,
    listDir: dirs.listDir,
    transitionPolicy,
  });
  const events: VersionChangeEvent[] = [];
  manager.onChange((e) => events.push(e));
  return { clock, loader, dirs, manager, events, logs };
}

/** `version:STATE` of every known version, highest first. */
function states(manager: ServableManager, name: string): string[] {
  return manager.status(name).map((s) => `${s.version}:${s.state}`);
}

function error(code: string, message: string) {
  return (err: unknown) => err instanceof ServingError && err.code === code && err.message === message;
}

/** Tracks whether a promise has settled, without awaiting it. */
function track(promise: Promise<void>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => {
    state.done = true;
  });
  return state;
}

describe('ServableManager', () => {
  it('setModels waits for the initial load; then the version serves', async () => {
    const { loader, dirs, manager, events, logs } = setup();
    dirs.set('/models/m', ['1', 'notes']);
    loader.gate('m:1');
    const startup = track(manager.setModels([modelConfig('m')]));
    await flush();
    assert.equal(startup.done, false);
    assert.equal(manager.isReady(), false);
    assert.deepEqual(states(manager, 'm'), ['1:LOADING']);
    loader.open('m:1');
    await flush();
    assert.equal(startup.done, true);
    assert.equal(manager.isReady(), true);
    assert.deepEqual(states(manager, 'm'), ['1:AVAILABLE']);
    assert.equal(loader.dirs.get('m:1'), '/models/m/1');
    const handle = manager.acquire('m', { kind: 'latest' });
    assert.deepEqual([handle.name, handle.version, handle.key, handle.platform], ['m', 1, 'm:1#key', 'onnx']);
    handle.release();
    assert.deepEqual(
      events.map((e) => `${e.version}:${e.state}`),
      ['1:START', '1:LOADING', '1:AVAILABLE'],
    );
    assert.equal(events[2].loadMillis, 0);
    assert.equal(events[2].memoryBytes, 1000);
    // One log line per AVAILABLE transition, load time as load_ms.
    assert.deepEqual(
      logs.filter((l) => l.message === 'model version'),
      [
        {
          level: 'info',
          fields: { model: 'm', version: 1, state: 'AVAILABLE', load_ms: 0 },
          message: 'model version',
        },
      ],
    );
    assert.deepEqual(manager.modelNames(), ['m']);
    assert.equal(manager.modelConfig('m')?.basePath, '/models/m');
  });

  it('loads a new version, then unloads the old one only after its handles are released', async () => {
    const { loader, dirs, manager } = setup();
    dirs.set('/models/m', ['1']);
    await manager.setModels([modelConfig('m')]);
    const held = manager.acquire('m', { kind: 'latest' });
    const other = manager.acquire('m', { kind: 'version', version: 1 });
    other.release();

    dirs.set('/models/m', ['1', '2']);
    await manager.tick();
    await flush();
    assert.deepEqual(states(manager, 'm'), ['2:AVAILABLE', '1:UNLOADING']);
    assert.deepEqual(loader.unloadCalls, [], 'old version still held');
    assert.equal(manager.acquire('m', { kind: 'latest' }).version, 2);
    assert.throws(
      () => manager.acquire('m', { kind: 'version', version: 1 }),
      error('NOT_FOUND', 'Servable not found for request: Specific(m, 1)'),
    );

    await manager.tick();
    await flush();
    other.release(); // a second release is a no-op: the count must not drop for `held`
    await flush();
    assert.deepEqual(loader.unloadCalls, []);
    assert.deepEqual(states(manager, 'm'), ['2:AVAILABLE', '1:UNLOADING']);

    held.release();
    await flush();
    assert.deepEqual(loader.unloadCalls, ['m:1']);
    assert.deepEqual(states(manager, 'm'), ['2:AVAILABLE', '1:END']);
    assert.deepEqual(manager.status('m', { kind: 'version', version: 1 }), [
      { version: 1, state: 'END', errorCode: 'OK', errorMessage: '' },
    ]);
  });

  it('retries a transiently failing new version loadRetries times, then ends it in error; the old one keeps serving', async () => {
    const { clock, loader, dirs, manager } = setup();
    const config = modelConfig('m', { loadRetries: 2, loadRetryIntervalMs: 500 });
    dirs.set('/models/m', ['1']);
    await manager.setModels([config]);

    dirs.set('/models/m', ['1', '2']);
    loader.failNext('m:2', Number.POSITIVE_INFINITY, new ServingError('UNAVAILABLE', 'worker restarting'));
    const reload = track(manager.setModels([config]));
    await flush();
    const attempts = () => loader.loadCalls.filter((c) => c === 'm:2').length;
    assert.equal(attempts(), 1);
    assert.deepEqual(states(manager, 'm'), ['2:LOADING', '1:AVAILABLE']);
    await clock.advance(499);
    assert.equal(attempts(), 1);
    await clock.advance(1);
    assert.equal(attempts(), 2);
    assert.equal(reload.done, false);
    await clock.advance(500);
    assert.equal(attempts(), 3);
    assert.equal(reload.done, true, 'setModels settles when the version has failed');
    await clock.advance(10_000);
    assert.equal(attempts(), 3);

    assert.deepEqual(manager.status('m'), [
      { version: 2, state: 'END', errorCode: 'UNAVAILABLE', errorMessage: 'worker restarting' },
      { version: 1, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' },
    ]);
    assert.equal(manager.acquire('m', { kind: 'latest' }).version, 1);
    assert.deepEqual(loader.unloadCalls, []);

    // Still on disk and still wanted: a poll does not retry the failed version.
    await manager.tick();
    await flush();
    assert.equal(attempts(), 3);
  });

  it('does not retry a memory budget rejection: the version ends at once, the old one keeps serving', async () => {
    const { clock, loader, dirs, manager } = setup();
    const config = modelConfig('m', { loadRetries: 5, loadRetryIntervalMs: 60_000 });
    dirs.set('/models/m', ['1']);
    await manager.setModels([config]);

    dirs.set('/models/m', ['1', '2']);
    const budget = new ServingError('RESOURCE_EXHAUSTED', 'over budget', { permanent: true });
    loader.failNext('m:2', Number.POSITIVE_INFINITY, budget);
    const reload = track(manager.setModels([config]));
    await flush();
    const attempts = () => loader.loadCalls.filter((c) => c === 'm:2').length;
    assert.equal(attempts(), 1);
    assert.equal(reload.done, true, 'setModels settles without waiting for retries');
    assert.deepEqual(manager.status('m'), [
      { version: 2, state: 'END', errorCode: 'RESOURCE_EXHAUSTED', errorMessage: 'over budget' },
      { version: 1, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' },
    ]);
    await clock.advance(10 * 60_000);
    assert.equal(attempts(), 1);
    assert.equal(manager.acquire('m', { kind: 'latest' }).version, 1);
    assert.deepEqual(loader.unloadCalls, []);
  });

  it('cancels the retries of a version removed from disk', async () => {
    const { clock, loader, dirs, manager } = setup();
    const config = modelConfig('m', { loadRetries: 5, loadRetryIntervalMs: 100 });
    dirs.set('/models/m', ['1']);
    await manager.setModels([config]);
    dirs.set('/models/m', ['1', '2']);
    loader.failNext('m:2', Number.POSITIVE_INFINITY);
    await manager.tick();
    await flush();
    dirs.set('/models/m', ['1']);
    await manager.tick();
    await flush();
    await clock.advance(1000);
    assert.deepEqual(
      loader.loadCalls.filter((c) => c === 'm:2'),
      ['m:2'],
    );
    assert.deepEqual(manager.status('m', { kind: 'version', version: 2 }), [
      { version: 2, state: 'END', errorCode: 'UNKNOWN', errorMessage: 'cannot load m:2' },
    ]);
    assert.deepEqual(manager.availableVersions('m'), [1]);
  });

  it('reloads a version that becomes wanted again while it drains, keeping the other one serving', async () => {
    const { loader, dirs, manager } = setup();
    dirs.set('/models/m', ['1']);
    await manager.setModels([modelConfig('m')]);
    const held = manager.acquire('m', { kind: 'latest' });
    dirs.set('/models/m', ['1', '2']);
    await manager.tick();
    await flush();
    assert.deepEqual(states(manager, 'm'), ['2:AVAILABLE', '1:UNLOADING']);

    dirs.set('/models/m', ['1']); // version 2 withdrawn before version 1 drained
    await manager.tick();
    await flush();
    assert.deepEqual(states(manager, 'm'), ['2:AVAILABLE', '1:UNLOADING'], 'never leaves nothing serving');
    held.release();
    await flush();
    assert.deepEqual(states(manager, 'm'), ['2:END', '1:AVAILABLE']);
    assert.deepEqual(loader.loadCalls, ['m:1', 'm:2', 'm:1']);
    assert.deepEqual(loader.unloadCalls, ['m:1', 'm:2']);
  });

  it('reads version directories from the real file system by default', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tensorserve-manager-'));
    try {
      await mkdir(join(root, '5'));
      const loader = new FakeLoader();
      const manager = new ServableManager({ loader, pollIntervalMs: 0 });
      await manager.setModels([modelConfig('m', { basePath: root })]);
      assert.deepEqual(manager.availableVersions('m'), [5]);
      assert.equal(loader.dirs.get('m:5'), join(root, '5'));
      manager.start(); // pollIntervalMs 0: no periodic polling
      await manager.close();
      assert.deepEqual(loader.unloadCalls, ['m:5']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('latest is the highest AVAILABLE version', async () => {
    const { loader, dirs, manager } = setup();
    dirs.set('/models/m', ['1', '2', '3']);
    loader.gate('m:3');
    const startup = manager.setModels([modelConfig('m', { versionPolicy: { kind: 'all' } })]);
    await flush();
    assert.deepEqual(manager.availableVersions('m'), [2, 1]);
    const handle = manager.acquire('m', { kind: 'latest' });
    assert.equal(handle.version, 2);
    handle.release();
    loader.open('m:3');
    await startup;
    assert.deepEqual(manager.availableVersions('m'), [3, 2, 1]);
    assert.equal(manager.acquire('m', { kind: 'latest' }).version, 3);
  });

  it('start-up applies labels as given; one on a version not yet available resolves once it is', async () => {
    const { dirs, manager, logs } = setup();
    dirs.set('/models/m', ['1']);
    const config = modelConfig('m', {
      versionPolicy: { kind: 'all' },
      versionLabels: { stable: 1, canary: 2 },
    });
    await manager.setModels([config]);
    assert.deepEqual(
      logs.filter((l) => l.level === 'warn').map((l) => l.fields),
      [{ model: 'm', label: 'canary', version: 2 }],
    );
    assert.equal(manager.acquire('m', { kind: 'label', label: 'stable' }).version, 1);
    assert.throws(
      () => manager.acquire('m', { kind: 'label', label: 'canary' }),
      error('NOT_FOUND', 'Servable not found for request: Specific(m, 2) (version label canary)'),
    );
    assert.throws(
      () => manager.acquire('m', { kind: 'label', label: 'beta' }),
      error('INVALID_ARGUMENT', 'Unrecognized servable version label: beta'),
    );
    assert.throws(
      () => manager.acquire('m', { kind: 'label', label: 'toString' }),
      error('INVALID_ARGUMENT', 'Unrecognized servable version label: toString'),
    );
    assert.throws(
      () => manager.acquire('nope', { kind: 'label', label: 'stable' }),
      error('INVALID_ARGUMENT', 'Unrecognized servable version label: stable'),
    );

    dirs.set('/models/m', ['1', '2']);
    await manager.tick();
    await flush();
    assert.equal(manager.acquire('m', { kind: 'label', label: 'canary' }).version, 2);
    assert.deepEqual(states(manager, 'm'), ['2:AVAILABLE', '1:AVAILABLE']);
    assert.deepEqual(
      manager.status('m', { kind: 'label', label: 'stable' }).map((s) => s.version),
      [1],
    );

    // A reload moves a label to an AVAILABLE version.
    await manager.setModels([{ ...config, versionLabels: { stable: 2 } }]);
    assert.equal(manager.acquire('m', { kind: 'label', label: 'stable' }).version, 2);
  });

  it('a reload assigning a label to a version that is not AVAILABLE fails and keeps the old labels', async () => {
    const { loader, dirs, manager } = setup();
    dirs.set('/models/m', ['1', '2']);
    dirs.set('/models/n', ['1']);
    loader.failNext('m:2', Number.POSITIVE_INFINITY);
    const m = modelConfig('m', { versionPolicy: { kind: 'all' }, versionLabels: { stable: 1 } });
    const n = modelConfig('n', { versionLabels: { prod: 1 } });
    await manager.setModels([m, n]);
    assert.deepEqual(manager.availableVersions('m'), [1]);

    const moves: [Record<string, number>, string, number][] = [
      [{ stable: 2 }, 'stable', 2], // moved onto a failed version
      [{ stable: 1, canary: 3 }, 'canary', 3], // new, on a version not on disk
    ];
    for (const [labels, label, version] of moves) {
      await assert.rejects(
        manager.setModels([
          { ...m, versionLabels: labels },
          { ...n, versionLabels: { prod: 1, beta: 1 } },
        ]),
        error(
          'FAILED_PRECONDITION',
          `Request to assign label '${label}' to version ${version} of model m, which is not currently available for inference`,
        ),
      );
      // All or nothing: m's label stays where it was, n's valid new label is not applied either.
      assert.equal(manager.acquire('m', { kind: 'label', label: 'stable' }).version, 1);
      assert.throws(
        () => manager.acquire('m', { kind: 'label', label: 'canary' }),
        error('INVALID_ARGUMENT', 'Unrecognized servable version label: canary'),
      );
      assert.throws(
        () => manager.acquire('n', { kind: 'label', label: 'beta' }),
        error('INVALID_ARGUMENT', 'Unrecognized servable version label: beta'),
      );
    }

    // A valid reload applies; an unchanged label is not re-checked.
    await manager.setModels([m, { ...n, versionLabels: { prod: 1, beta: 1 } }]);
    assert.equal(manager.acquire('n', { kind: 'label', label: 'beta' }).version, 1);
  });

  it('reports unknown models and versions exactly as TF Serving', async () => {
    const { dirs, manager } = setup();
    dirs.set('/models/m', ['1']);
    await manager.setModels([modelConfig('m')]);
    assert.throws(
      () => manager.acquire('x', { kind: 'latest' }),
      error('NOT_FOUND', 'Servable not found for request: Latest(x)'),
    );
    assert.throws(
      () => manager.acquire('x', { kind: 'version', version: 5 }),
      error('NOT_FOUND', 'Servable not found for request: Specific(x, 5)'),
    );
    assert.throws(
      () => manager.acquire('m', { kind: 'version', version: 9 }),
      error('NOT_FOUND', 'Servable not found for request: Specific(m, 9)'),
    );
    assert.throws(() => manager.status('x'), error('NOT_FOUND', 'Could not find any versions of model x'));
    assert.throws(
      () => manager.status('m', { kind: 'version', version: 9 }),
      error('NOT_FOUND', 'Could not find version 9 of model m'),
    );
    assert.deepEqual(states(manager, 'm'), ['1:AVAILABLE']);
    assert.deepEqual(manager.status('m', { kind: 'latest' }), manager.status('m'));
    assert.deepEqual(manager.availableVersions('x'), []);
  });

  it('unloads a model removed by setModels, after its handles are released', async () => {
    const { loader, dirs, manager } = setup();
    dirs.set('/models/a', ['1']);
    dirs.set('/models/b', ['3']);
    await manager.setModels([modelConfig('a'), modelConfig('b')]);
    assert.deepEqual(manager.modelNames(), ['a', 'b']);
    const held = manager.acquire('b', { kind: 'latest' });

    await manager.setModels([modelConfig('a')]);
    assert.deepEqual(manager.modelNames(), ['a']);
    assert.equal(manager.modelConfig('b'), undefined);
    assert.deepEqual(manager.availableVersions('b'), []);
    assert.throws(
      () => manager.acquire('b', { kind: 'latest' }),
      error('NOT_FOUND', 'Servable not found for request: Latest(b)'),
    );
    assert.deepEqual(loader.unloadCalls, []);
    assert.deepEqual(states(manager, 'b'), ['3:UNLOADING']);
    held.release();
    await flush();
    assert.deepEqual(loader.unloadCalls, ['b:3']);
    assert.deepEqual(states(manager, 'b'), ['3:END']);
    assert.deepEqual(states(manager, 'a'), ['1:AVAILABLE']);

    // Added back: loads again.
    await manager.setModels([modelConfig('a'), modelConfig('b')]);
    assert.deepEqual(states(manager, 'b'), ['3:AVAILABLE']);
  });

  it('applies a changed version policy on reload', async () => {
    const { loader, dirs, manager } = setup();
    dirs.set('/models/m', ['1', '2', '3']);
    await manager.setModels([modelConfig('m')]);
    assert.deepEqual(states(manager, 'm'), ['3:AVAILABLE']);
    await manager.setModels([modelConfig('m', { versionPolicy: { kind: 'specific', versions: [1, 2] } })]);
    await flush();
    assert.deepEqual(states(manager, 'm'), ['3:END', '2:AVAILABLE', '1:AVAILABLE']);
    assert.deepEqual(loader.unloadCalls, ['m:3']);
  });

  it('reports a missing base path on the model and keeps serving what it had', async () => {
    const { loader, dirs, manager } = setup();
    await manager.setModels([modelConfig('m')]);
    // Strict readiness: a listed model without an AVAILABLE version makes the server not ready.
    assert.equal(manager.isReady(), false);
    assert.equal(manager.isModelReady('m'), false);
    assert.deepEqual(manager.modelNames(), ['m']);
    assert.equal(manager.sourceError('m')?.code, 'NOT_FOUND');
    assert.throws(
      () => manager.status('m'),
      error(
        'NOT_FOUND',
        'Could not find any versions of model m (Could not find base path /models/m for servable m)',
      ),
    );
    assert.deepEqual(manager.versionStatuses('m'), []);

    dirs.set('/models/m', ['4']);
    await manager.tick();
    await flush();
    assert.equal(manager.sourceError('m'), undefined);
    assert.deepEqual(states(manager, 'm'), ['4:AVAILABLE']);
    assert.equal(manager.isReady(), true);

    dirs.paths.delete('/models/m');
    await manager.tick();
    await flush();
    assert.deepEqual(states(manager, 'm'), ['4:AVAILABLE'], 'a read error is not "no versions"');

    dirs.set('/models/m', []);
    await manager.tick();
    await flush();
    assert.deepEqual(states(manager, 'm'), ['4:END'], 'an empty base path unloads everything');
    assert.deepEqual(loader.unloadCalls, ['m:4']);
  });

  it('resource-preserving: unloads the old version before loading the new one', async () => {
    const { loader, dirs, manager } = setup('resource-preserving');
    dirs.set('/models/m', ['1']);
    await manager.setModels([modelConfig('m')]);
    const held = manager.acquire('m', { kind: 'latest' });
    dirs.set('/models/m', ['1', '2']);
    await manager.tick();
    await flush();
    assert.deepEqual(states(manager, 'm'), ['2:START', '1:UNLOADING']);
    assert.deepEqual(loader.loadCalls, ['m:1']);
    held.release();
    await flush();
    assert.deepEqual(states(manager, 'm'), ['2:AVAILABLE', '1:END']);
    assert.deepEqual(loader.loadCalls, ['m:1', 'm:2']);
  });

  it('start() polls every pollIntervalMs until stop()', async () => {
    const { clock, loader, dirs, manager } = setup();
    dirs.set('/models/m', ['1']);
    await manager.setModels([modelConfig('m')]);
    manager.start();
    dirs.set('/models/m', ['1', '2']);
    await clock.advance(999);
    assert.deepEqual(manager.availableVersions('m'), [1]);
    await clock.advance(1);
    assert.deepEqual(manager.availableVersions('m'), [2]);
    manager.stop();
    dirs.set('/models/m', ['1', '2', '3']);
    await clock.advance(5000);
    assert.deepEqual(manager.availableVersions('m'), [2]);
    assert.equal(clock.pendingTimers, 0);
    assert.deepEqual(loader.loadCalls, ['m:1', 'm:2']);
  });

  it('close() unloads every version once drained', async () => {
    const { loader, dirs, manager, events } = setup();
    dirs.set('/models/a', ['1']);
    dirs.set('/models/b', ['2']);
    await manager.setModels([modelConfig('a'), modelConfig('b')]);
    const held = manager.acquire('a', { kind: 'latest' });
    const closing = track(manager.close());
    await flush();
    assert.equal(manager.isReady(), false);
    assert.equal(closing.done, false);
    assert.deepEqual(loader.unloadCalls, ['b:2']);
    held.release();
    await flush();
    assert.equal(closing.done, true);
    assert.deepEqual(loader.unloadCalls.sort(), ['a:1', 'b:2']);
    assert.deepEqual(
      events.filter((e) => e.model === 'a').map((e) => e.state),
      ['START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END'],
    );
    await assert.rejects(manager.setModels([]), error('FAILED_PRECONDITION', 'The model manager is closed'));
  });

  it('emits END with the error of a failed load and rejects duplicate model names', async () => {
    const { loader, dirs, manager, events } = setup();
    dirs.set('/models/m', ['1']);
    loader.failNext('m:1', 1, new Error('bad graph'));
    await manager.setModels([modelConfig('m')]);
    assert.deepEqual(events.at(-1), {
      model: 'm',
      version: 1,
      state: 'END',
      errorCode: 'UNKNOWN',
      errorMessage: 'bad graph',
    });
    // The only version failed: the server is not ready.
    assert.equal(manager.isReady(), false);
    await assert.rejects(
      manager.setModels([modelConfig('m'), modelConfig('m')]),
      error('INVALID_ARGUMENT', 'Duplicate model name: m'),
    );
  });

  it('loadError tells why a settled model is not served as configured', async () => {
    const { loader, dirs, manager } = setup();
    dirs.set('/models/ok', ['1']);
    dirs.set('/models/broken', ['1', '2']);
    dirs.set('/models/empty', []);
    loader.failNext('broken:2', 1, new ServingError('INVALID_ARGUMENT', 'bad graph'));
    await manager.setModels([
      modelConfig('ok', { versionLabels: { stable: 1 } }),
      modelConfig('broken'),
      modelConfig('empty'),
      modelConfig('gone', { basePath: '/models/gone' }),
      modelConfig('labelled', { basePath: '/models/ok', versionLabels: { canary: 2 } }),
    ]);
    assert.equal(manager.loadError('ok'), undefined);
    assert.equal(manager.loadError('not-listed'), undefined);
    const check = (name: string, code: string, message: string) => {
      const err = manager.loadError(name);
      assert.ok(err, `${name} has an error`);
      assert.deepEqual([err.code, err.message], [code, message]);
    };
    check('broken', 'INVALID_ARGUMENT', 'bad graph');
    check('empty', 'NOT_FOUND', 'No versions of servable empty found under base path /models/empty');
    check('gone', 'NOT_FOUND', 'Could not find base path /models/gone for servable gone');
    check(
      'labelled',
      'FAILED_PRECONDITION',
      'Request to assign label canary to version 2 of model labelled, which is not currently available for inference',
    );
    // Once the failing version is no longer wanted, the model is served as configured.
    await manager.setModels([modelConfig('broken', { versionPolicy: { kind: 'specific', versions: [1] } })]);
    assert.equal(manager.loadError('broken'), undefined);
  });
});

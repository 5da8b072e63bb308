import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { MemoryBudget } from '../../../src/main/tenancy/memory-budget.js';
import { estimateModelBytes } from '../../../src/main/tenancy/memory-estimate.js';

function exhausted(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ServingError);
    assert.equal(err.code, 'RESOURCE_EXHAUSTED');
    assert.equal(err.permanent, true, 'a budget rejection is not retried');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('MemoryBudget', () => {
  const budget = () =>
    new MemoryBudget({ devices: { cpu: 1000, 'cuda:0': 0 }, tenants: { acme: 500, beta: 0 } });

  it('rejects a load over the device budget and records nothing', () => {
    const b = budget();
    b.reserve({ device: 'cpu', tenant: undefined, bytes: 700, key: 'mnist:1' });
    assert.throws(
      () => b.reserve({ device: 'cpu', tenant: 'beta', bytes: 400, key: 'beta/fraud:1' }),
      exhausted(
        /^Memory budget of device 'cpu' exceeded: budget 1000 bytes, in use 700 bytes, requested 400 bytes$/,
      ),
    );
    assert.equal(b.get('beta/fraud:1'), undefined);
    assert.equal(b.get('mnist:1')?.chargedBytes, 700);
    // Exactly full is fine.
    assert.equal(
      b.reserve({ device: 'cpu', tenant: 'beta', bytes: 300, key: 'beta/fraud:1' }).chargedBytes,
      300,
    );
    assert.equal(b.snapshot().devices.find((d) => d.name === 'cpu')?.usedBytes, 1000);
  });

  it('rejects a load over the tenant budget, across devices', () => {
    const b = budget();
    b.reserve({ device: 'cuda:0', tenant: 'acme', bytes: 450, key: 'acme/fraud:1' });
    assert.throws(
      () => b.reserve({ device: 'cpu', tenant: 'acme', bytes: 100, key: 'acme/fraud:2' }),
      exhausted(
        /^Memory budget of tenant 'acme' exceeded: budget 500 bytes, in use 450 bytes, requested 100 bytes$/,
      ),
    );
    // Other tenants and shared models are not charged to acme.
    assert.equal(b.reserve({ device: 'cpu', tenant: 'beta', bytes: 900, key: 'beta/x:1' }).chargedBytes, 900);
    const tenants = b.snapshot().tenants;
    assert.equal(tenants.find((t) => t.name === 'acme')?.usedBytes, 450);
    assert.equal(tenants.find((t) => t.name === 'beta')?.usedBytes, 900);
  });

  it('treats 0 and unlisted budgets as unlimited', () => {
    const b = budget();
    b.reserve({ device: 'cuda:0', tenant: 'beta', bytes: 1e12, key: 'a' });
    b.reserve({ device: 'cuda:0', tenant: 'beta', bytes: 1e12, key: 'c' });
    b.reserve({ device: 'cuda:1', tenant: 'unlisted', bytes: 1e12, key: 'b' });
    const snap = b.snapshot();
    assert.deepEqual(
      snap.reservations.map((r) => [r.key, r.chargedBytes]),
      [
        ['a', 1e12],
        ['c', 1e12],
        ['b', 1e12],
      ],
    );
    assert.deepEqual(
      snap.devices.find((d) => d.name === 'cuda:0'),
      {
        name: 'cuda:0',
        budgetBytes: 0,
        usedBytes: 2e12,
      },
    );
    assert.deepEqual(
      snap.devices.find((d) => d.name === 'cuda:1'),
      {
        name: 'cuda:1',
        budgetBytes: 0,
        usedBytes: 1e12,
      },
    );
    assert.deepEqual(
      snap.tenants.find((t) => t.name === 'unlisted'),
      {
        name: 'unlisted',
        budgetBytes: 0,
        usedBytes: 1e12,
      },
    );
  });

  it('frees memory on release, and release is repeatable', () => {
    const b = budget();
    b.reserve({ device: 'cpu', tenant: 'acme', bytes: 500, key: 'acme/fraud:1' });
    assert.throws(
      () => b.reserve({ device: 'cpu', tenant: 'acme', bytes: 1, key: 'acme/fraud:2' }),
      exhausted(/tenant/),
    );
    assert.equal(b.release('acme/fraud:1'), true);
    assert.equal(b.release('acme/fraud:1'), false);
    assert.equal(b.get('acme/fraud:1'), undefined);
    assert.equal(
      b.reserve({ device: 'cpu', tenant: 'acme', bytes: 500, key: 'acme/fraud:2' }).chargedBytes,
      500,
    );
  });

  it('charges the measured size once adjusted', () => {
    const b = budget();
    b.reserve({ device: 'cpu', tenant: 'acme', bytes: 400, key: 'k1' });
    const adjusted = b.adjust('k1', 250);
    assert.deepEqual(adjusted, {
      key: 'k1',
      device: 'cpu',
      tenant: 'acme',
      estimatedBytes: 400,
      measuredBytes: 250,
      chargedBytes: 250,
    });
    b.reserve({ device: 'cpu', tenant: 'acme', bytes: 250, key: 'k2' }); // fits only with the measured size
    // A measurement above the estimate is kept (the model is loaded) and blocks later loads.
    b.adjust('k2', 600);
    assert.throws(
      () => b.reserve({ device: 'cpu', tenant: undefined, bytes: 200, key: 'k3' }),
      exhausted(/in use 850/),
    );
  });

  it('reports budgets, usage and both sizes in the snapshot', () => {
    const b = budget();
    b.reserve({ device: 'cpu', tenant: 'acme', bytes: 300, key: 'acme/fraud:1' });
    b.reserve({ device: 'cpu', tenant: undefined, bytes: 100, key: 'mnist:1' });
    b.adjust('mnist:1', 120);
    const s = b.snapshot();
    assert.deepEqual(s.devices, [
      { name: 'cpu', budgetBytes: 1000, usedBytes: 420 },
      { name: 'cuda:0', budgetBytes: 0, usedBytes: 0 },
    ]);
    assert.deepEqual(s.tenants, [
      { name: 'acme', budgetBytes: 500, usedBytes: 300 },
      { name: 'beta', budgetBytes: 0, usedBytes: 0 },
    ]);
    assert.deepEqual(
      s.reservations.map((r) => [r.key, r.estimatedBytes, r.measuredBytes, r.chargedBytes]),
      [
        ['acme/fraud:1', 300, undefined, 300],
        ['mnist:1', 100, 120, 120],
      ],
    );
  });

  it('refuses misuse', () => {
    const b = budget();
    b.reserve({ device: 'cpu', tenant: undefined, bytes: 1, key: 'k' });
    assert.throws(
      () => b.reserve({ device: 'cpu', tenant: undefined, bytes: 1, key: 'k' }),
      /already reserved/,
    );
    assert.throws(() => b.reserve({ device: 'cpu', tenant: undefined, bytes: -1, key: 'n' }), RangeError);
    assert.throws(() => b.adjust('nope', 1), /No memory reservation/);
    assert.throws(() => new MemoryBudget({ devices: { cpu: -5 } }), /devices\['cpu'\]/);
  });

  it('builds from the server config and resolved tenants', () => {
    const b = MemoryBudget.fromConfig(
      [{ name: 'cpu', memoryBudgetBytes: 10 }],
      [{ id: 'acme', quotas: { maxMemoryBytes: 5 } }],
    );
    assert.throws(
      () => b.reserve({ device: 'cpu', tenant: 'acme', bytes: 6, key: 'x' }),
      exhausted(/tenant 'acme'/),
    );
    assert.throws(
      () => b.reserve({ device: 'cpu', tenant: undefined, bytes: 11, key: 'x' }),
      exhausted(/device 'cpu'/),
    );
  });
});

describe('estimateModelBytes', () => {
  it('sums the version directory, skipping assets.extra', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tenancy-est-'));
    try {
      await writeFile(path.join(dir, 'model.json'), 'x'.repeat(100));
      await mkdir(path.join(dir, 'weights'));
      await writeFile(path.join(dir, 'weights', 'group1-shard1of1.bin'), Buffer.alloc(4096));
      await mkdir(path.join(dir, 'assets.extra'));
      await writeFile(path.join(dir, 'assets.extra', 'tf_serving_warmup_requests'), Buffer.alloc(999));
      assert.equal(await estimateModelBytes(dir), 4196);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

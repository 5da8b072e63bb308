import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EvictionCandidate, planEviction } from '../../../src/main/lifecycle/eviction-policy.js';

const c = (
  key: string,
  lastUsed: number,
  bytes = 100,
  tenant?: string,
  device = 'cpu',
): EvictionCandidate => ({
  key,
  device,
  tenant,
  bytes,
  lastUsed,
});

describe('planEviction', () => {
  it('evicts nothing when the load fits', () => {
    const plan = planEviction(
      {
        device: 'cpu',
        tenant: undefined,
        bytes: 100,
        deviceBudget: { budgetBytes: 300, usedBytes: 200 },
        tenantBudget: undefined,
      },
      [c('a', 1)],
    );
    assert.deepEqual(plan, { fits: true, evict: [] });
  });

  it('evicts least recently used first, only as many as needed', () => {
    const plan = planEviction(
      {
        device: 'cpu',
        tenant: undefined,
        bytes: 150,
        deviceBudget: { budgetBytes: 300, usedBytes: 300 },
        tenantBudget: undefined,
      },
      [c('new', 30), c('old', 10), c('mid', 20)],
    );
    assert.deepEqual(plan, { fits: true, evict: ['old', 'mid'] });
  });

  it('an unlimited budget (0) never evicts', () => {
    const plan = planEviction(
      {
        device: 'cpu',
        tenant: 't',
        bytes: 1e9,
        deviceBudget: { budgetBytes: 0, usedBytes: 5e9 },
        tenantBudget: { budgetBytes: 0, usedBytes: 1e9 },
      },
      [c('a', 1, 100, 't')],
    );
    assert.deepEqual(plan, { fits: true, evict: [] });
  });

  it('only candidates on the same device free device memory', () => {
    const plan = planEviction(
      {
        device: 'cpu',
        tenant: undefined,
        bytes: 100,
        deviceBudget: { budgetBytes: 200, usedBytes: 200 },
        tenantBudget: undefined,
      },
      [c('gpu', 1, 100, undefined, 'cuda:0'), c('cpu', 2)],
    );
    assert.deepEqual(plan, { fits: true, evict: ['cpu'] });
  });

  it("a tenant over its own budget evicts its own models first, even when another tenant's are older", () => {
    const plan = planEviction(
      {
        device: 'cpu',
        tenant: 'acme',
        bytes: 100,
        deviceBudget: { budgetBytes: 1000, usedBytes: 300 },
        tenantBudget: { budgetBytes: 200, usedBytes: 200 },
      },
      [c('globex-old', 1, 100, 'globex'), c('acme-a', 5, 100, 'acme'), c('acme-b', 3, 100, 'acme')],
    );
    assert.deepEqual(plan, { fits: true, evict: ['acme-b'] });
  });

  it('then the device: after the tenant fits, the device overflow evicts across tenants by LRU', () => {
    const plan = planEviction(
      {
        device: 'cpu',
        tenant: 'acme',
        bytes: 100,
        deviceBudget: { budgetBytes: 300, usedBytes: 400 },
        tenantBudget: { budgetBytes: 200, usedBytes: 200 },
      },
      [c('globex-old', 1, 100, 'globex'), c('acme-a', 5, 100, 'acme'), c('globex-new', 9, 100, 'globex')],
    );
    assert.deepEqual(plan, { fits: true, evict: ['acme-a', 'globex-old'] });
  });

  it('names the budget that cannot fit even after evicting every candidate', () => {
    assert.deepEqual(
      planEviction(
        {
          device: 'cpu',
          tenant: undefined,
          bytes: 500,
          deviceBudget: { budgetBytes: 400, usedBytes: 100 },
          tenantBudget: undefined,
        },
        [c('a', 1)],
      ),
      { fits: false, budget: 'device' },
    );
    assert.deepEqual(
      planEviction(
        {
          device: 'cpu',
          tenant: 'acme',
          bytes: 100,
          deviceBudget: { budgetBytes: 0, usedBytes: 0 },
          tenantBudget: { budgetBytes: 150, usedBytes: 100 },
        },
        [c('globex', 1, 100, 'globex')],
      ),
      { fits: false, budget: 'tenant' },
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import type { TenantQuotas } from '../../../src/main/config/tenant-config.js';
import { AdmissionController } from '../../../src/main/tenancy/admission.js';
import { InFlightGate } from '../../../src/main/tenancy/in-flight-gate.js';

const UNLIMITED: TenantQuotas = {
  requestsPerSecond: 0,
  burst: 0,
  maxQueued: 0,
  maxInFlight: 0,
  maxMemoryBytes: 0,
};
const tenant = (id: string, quotas: Partial<TenantQuotas>) => ({ id, quotas: { ...UNLIMITED, ...quotas } });
const exhausted = (err: unknown) => err instanceof ServingError && err.code === 'RESOURCE_EXHAUSTED';

describe('quotas on a config reload', () => {
  it('AdmissionController.setTenants keeps admitted counts and applies new bounds', () => {
    const a = new AdmissionController([tenant('acme', { maxQueued: 1 })]);
    const first = a.admit('acme');
    assert.throws(() => a.admit('acme'), exhausted);
    a.setTenants([tenant('acme', { maxQueued: 2 }), tenant('new', { requestsPerSecond: 1, burst: 1 })]);
    assert.equal(a.usage('acme')?.queued, 1, 'the admitted request still counts');
    const second = a.admit('acme');
    assert.throws(() => a.admit('acme'), exhausted);
    a.admit('new').done();
    assert.throws(() => a.admit('new'), exhausted, 'the new tenant has its rate quota');
    first.done();
    second.done();
    assert.equal(a.usage('acme')?.queued, 0);
    a.setTenants([tenant('new', {})]);
    assert.equal(a.usage('acme'), undefined, 'a removed tenant is forgotten');
    a.admit('new').done();
    a.admit('new').done();
  });

  it('InFlightGate.setLimits lets waiters in when a limit is raised or removed', async () => {
    const gate = new InFlightGate([['acme', 1]]);
    const held = gate.tryEnter('acme');
    assert.ok(held);
    const waiting = gate.enter('acme');
    assert.equal(gate.waiting('acme'), 1);
    gate.setLimits([['acme', 2]]);
    const release = await waiting;
    assert.equal(gate.inFlight('acme'), 2);
    assert.equal(gate.tryEnter('acme'), undefined, 'the new limit holds');
    const third = gate.enter('acme');
    gate.setLimits([]);
    (await third)();
    assert.ok(gate.tryEnter('acme'), 'no limit any more');
    release();
    held();
  });
});

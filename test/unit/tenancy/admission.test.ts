import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import type { TenantQuotas } from '../../../src/main/config/tenant-config.js';
import { AdmissionController } from '../../../src/main/tenancy/admission.js';

const UNLIMITED: TenantQuotas = {
  requestsPerSecond: 0,
  burst: 0,
  maxQueued: 0,
  maxInFlight: 0,
  maxMemoryBytes: 0,
};

function tenant(id: string, quotas: Partial<TenantQuotas>) {
  return { id, quotas: { ...UNLIMITED, ...quotas } };
}

function servingError(code: string, retryAfterSeconds?: number) {
  return (err: unknown) => {
    assert.ok(err instanceof ServingError);
    assert.equal(err.code, code);
    if (retryAfterSeconds !== undefined) assert.equal(err.retryAfterSeconds, retryAfterSeconds);
    return true;
  };
}

describe('AdmissionController', () => {
  it('rate limits per tenant with Retry-After, and refills', () => {
    let t = 0;
    const a = new AdmissionController(
      [tenant('acme', { requestsPerSecond: 1, burst: 2 }), tenant('beta', {})],
      {
        clock: { now: () => t },
      },
    );
    a.admit('acme').done();
    a.admit('acme').done();
    assert.throws(() => a.admit('acme'), servingError('RESOURCE_EXHAUSTED', 1));
    assert.throws(
      () => a.admit('acme'),
      (err: unknown) => {
        assert.ok(err instanceof ServingError);
        assert.equal(err.httpStatus, 429);
        assert.match(err.message, /rate quota/);
        return true;
      },
    );
    // Another tenant is unaffected.
    for (let i = 0; i < 10; i++) a.admit('beta').done();
    t += 1000;
    a.admit('acme').done();
  });

  it('rejects over max_queued without spending a rate token', () => {
    const t = 0;
    const a = new AdmissionController([tenant('acme', { maxQueued: 2, requestsPerSecond: 1, burst: 3 })], {
      clock: { now: () => t },
    });
    const t1 = a.admit('acme');
    const t2 = a.admit('acme');
    assert.throws(() => a.admit('acme'), servingError('RESOURCE_EXHAUSTED'));
    assert.deepEqual(a.usage('acme'), { tenant: 'acme', queued: 2, inFlight: 0, tokens: 1 });
    t1.started();
    assert.deepEqual(
      { ...a.usage('acme'), tokens: undefined },
      { tenant: 'acme', queued: 1, inFlight: 1, tokens: undefined },
    );
    a.admit('acme'); // a queue slot freed up; the third token is spent
    t2.done();
    t1.done();
    assert.equal(a.usage('acme')?.queued, 1);
    assert.equal(a.usage('acme')?.inFlight, 0);
  });

  it('counts a ticket queued until started() and in flight until done()', () => {
    const a = new AdmissionController([tenant('acme', { maxInFlight: 1 })]);
    const t1 = a.admit('acme');
    const t2 = a.admit('acme');
    const counts = () => ({ queued: a.usage('acme')?.queued, inFlight: a.usage('acme')?.inFlight });
    assert.deepEqual(counts(), { queued: 2, inFlight: 0 });
    t1.started();
    assert.deepEqual(counts(), { queued: 1, inFlight: 1 });
    t1.done();
    assert.deepEqual(counts(), { queued: 1, inFlight: 0 });
    t2.started();
    assert.deepEqual(counts(), { queued: 0, inFlight: 1 });
    t2.done();
    assert.deepEqual(counts(), { queued: 0, inFlight: 0 });
  });

  it('ignores repeated started() and done()', () => {
    const a = new AdmissionController([tenant('acme', {})]);
    const t1 = a.admit('acme');
    t1.started();
    t1.started();
    t1.done();
    t1.done();
    t1.started();
    assert.deepEqual(a.usage('acme'), { tenant: 'acme', queued: 0, inFlight: 0, tokens: undefined });
  });

  it('refuses everything with UNAVAILABLE while draining', () => {
    const a = new AdmissionController([tenant('acme', {})]);
    const before = a.admit('acme');
    a.draining = true;
    assert.throws(() => a.admit('acme'), servingError('UNAVAILABLE'));
    assert.throws(() => a.admit(undefined), servingError('UNAVAILABLE'));
    before.done();
    a.draining = false;
    a.admit('acme').done();
  });

  it('refuses with UNAVAILABLE over the server-wide queue bound', () => {
    const a = new AdmissionController([tenant('acme', {}), tenant('beta', {})], { maxQueuedTotal: 2 });
    const t1 = a.admit('acme');
    a.admit(undefined);
    assert.throws(() => a.admit('beta'), servingError('UNAVAILABLE'));
    t1.started(); // running requests no longer count as queued
    a.admit('beta');
  });

  it('throws INTERNAL for an unconfigured tenant', () => {
    const a = new AdmissionController([]);
    assert.throws(() => a.admit('ghost'), servingError('INTERNAL'));
  });

  it('arrive takes the rate token before the body; admit with the pass takes no second one', () => {
    const t = 0;
    const a = new AdmissionController([tenant('acme', { requestsPerSecond: 1, burst: 2 })], {
      clock: { now: () => t },
    });
    const p1 = a.arrive('acme');
    const p2 = a.arrive('acme');
    assert.throws(() => a.arrive('acme'), servingError('RESOURCE_EXHAUSTED', 1));
    a.admit('acme', p1).done();
    a.admit('acme', p2).done();
    assert.equal(a.usage('acme')?.tokens, 0);
  });

  it('arrive checks max_queued before the rate, spending no token', () => {
    const t = 0;
    const a = new AdmissionController([tenant('acme', { maxQueued: 1, requestsPerSecond: 1, burst: 3 })], {
      clock: { now: () => t },
    });
    const queued = a.admit('acme');
    assert.throws(
      () => a.arrive('acme'),
      (err: unknown) => {
        assert.match((err as ServingError).message, /queue quota/);
        return servingError('RESOURCE_EXHAUSTED')(err);
      },
    );
    assert.equal(a.usage('acme')?.tokens, 2);
    queued.done();
  });

  it('gives the token back when admit refuses a passed request for another reason', () => {
    const t = 0;
    const a = new AdmissionController([tenant('acme', { maxQueued: 1, requestsPerSecond: 1, burst: 3 })], {
      clock: { now: () => t },
    });
    // Both arrive while neither is queued (their bodies are being read); the second is refused at admit.
    const p1 = a.arrive('acme');
    const p2 = a.arrive('acme');
    assert.equal(a.usage('acme')?.tokens, 1);
    const ticket = a.admit('acme', p1);
    assert.throws(() => a.admit('acme', p2), servingError('RESOURCE_EXHAUSTED'));
    assert.equal(a.usage('acme')?.tokens, 2);
    a.draining = true;
    ticket.done();
    const p3 = a.arrive('acme');
    assert.throws(() => a.admit('acme', p3), servingError('UNAVAILABLE'));
    assert.equal(a.usage('acme')?.tokens, 2);
  });

  it('refuses a pass redeemed twice, of another tenant or not its own (INTERNAL)', () => {
    const a = new AdmissionController([tenant('acme', {}), tenant('beta', {})]);
    const pass = a.arrive('acme');
    a.admit('acme', pass).done();
    assert.throws(() => a.admit('acme', pass), servingError('INTERNAL'));
    assert.throws(() => a.admit('beta', a.arrive('acme')), servingError('INTERNAL'));
    assert.throws(() => a.admit('acme', { tenant: 'acme' }), servingError('INTERNAL'));
    const other = new AdmissionController([tenant('acme', {})]);
    assert.throws(() => a.admit('acme', other.arrive('acme')), servingError('INTERNAL'));
    assert.deepEqual(a.usage('acme'), { tenant: 'acme', queued: 0, inFlight: 0, tokens: undefined });
  });

  it('validates its options', () => {
    assert.throws(() => new AdmissionController([], { maxQueuedTotal: -1 }), /maxQueuedTotal/);
  });
});

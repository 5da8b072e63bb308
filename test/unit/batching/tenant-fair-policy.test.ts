import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchScheduler } from '../../../src/batching/scheduler.js';
import { RoundRobinPolicy, type SelectionPolicy } from '../../../src/batching/selection-policy.js';
import { TenantFairPolicy } from '../../../src/batching/tenant-fair-policy.js';
import {
  batching,
  FakeExecutor,
  flush,
  ManualClock,
  type RecordedBatch,
  rowsOf,
  SIGNATURE,
} from './fakes.js';

/** Full 4-row batches at once; `threads` is the model's numBatchThreads. */
const full = (threads: number) =>
  batching({ maxBatchSize: 4, maxExecutionBatchSize: 4, batchTimeoutMicros: 0, numBatchThreads: threads });
/** Tenant A owns three models, tenant B one. */
const OWNER: Record<string, string> = { a1: 'A', a2: 'A', a3: 'A', b1: 'B' };

/**
 * Every model of `owners` (model key → tenant) on one single-slot device, all kept backlogged
 * with full 4-row batches, through the real BatchScheduler, DeviceDispatcher and ModelQueue.
 * Runs `batches` batches one at a time (the fake executor completes each on command; the
 * manual clock never moves) and returns the rows each tenant got and the models in run order.
 */
async function share(
  policy: SelectionPolicy,
  batches: number,
  { threads = 2, owners = OWNER }: { threads?: number; owners?: Record<string, string> } = {},
) {
  const exec = new FakeExecutor(0);
  const scheduler = new BatchScheduler({ clock: new ManualClock(), selectionPolicy: () => policy });
  for (const key of Object.keys(owners))
    scheduler.addModel(key, { executor: exec, signature: SIGNATURE, batching: full(threads) });
  const pending: Promise<unknown>[] = [];
  for (const [key, tenant] of Object.entries(owners))
    for (let i = 0; i < batches; i++)
      pending.push(scheduler.enqueue(key, { inputs: rowsOf(4), outputNames: [], tenant }));
  exec.setSlots(1);
  const rows: Record<string, number> = {};
  for (const tenant of Object.values(owners)) rows[tenant] = 0;
  const order: string[] = [];
  for (let i = 0; i < batches; i++) {
    await flush();
    const open: RecordedBatch[] = exec.open;
    assert.equal(open.length, 1);
    rows[owners[open[0].modelKey]] += open[0].inputs.x.shape[0];
    order.push(open[0].modelKey);
    exec.complete(open[0]);
  }
  exec.setSlots(100);
  await exec.drain();
  await Promise.all(pending);
  return { rows, order };
}

describe('TenantFairPolicy', () => {
  it('gives a one-model tenant half the device against a three-model tenant (round robin gives it a quarter)', async () => {
    const rr = await share(new RoundRobinPolicy(), 40, { threads: 1 });
    assert.deepEqual(
      rr.rows,
      { A: 120, B: 40 },
      'round robin across models favours the tenant with more models',
    );

    const fair = await share(new TenantFairPolicy({ weightOf: () => 1 }), 40, { threads: 1 });
    assert.deepEqual(fair.rows, { A: 80, B: 80 });
    // A's share still rotates over its three models.
    const aModels = fair.order.filter((k) => k !== 'b1');
    assert.deepEqual(new Set(aModels.slice(0, 3)), new Set(['a1', 'a2', 'a3']));
  });

  for (const threads of [1, 2]) {
    it(`honours weights: B with weight 3 gets three quarters of the rows (numBatchThreads ${threads})`, async () => {
      const weights: Record<string, number> = { A: 1, B: 3 };
      const weightOf = (t: string | undefined) => weights[t ?? ''] ?? 1;
      const { rows } = await share(new TenantFairPolicy({ weightOf }), 40, { threads });
      assert.deepEqual(rows, { A: 40, B: 120 });
    });
  }

  it('holds weights 1:3 with one model each on a one-slot device, each model one batch at a time', async () => {
    // The model whose batch just ended must count itself idle before the freed slot is given
    // away; otherwise it sits out every next pick and the two tenants alternate (80:80 rows).
    const weights: Record<string, number> = { A: 1, B: 3 };
    const weightOf = (t: string | undefined) => weights[t ?? ''] ?? 1;
    const owners = { a: 'A', b: 'B' };
    const { rows, order } = await share(new TenantFairPolicy({ weightOf }), 40, { threads: 1, owners });
    assert.deepEqual(rows, { A: 40, B: 120 });
    // B runs back to back: three of its batches for each of A's, from the start.
    assert.deepEqual(order.slice(0, 8).filter((k) => k === 'b').length, 6, order.join(','));
  });

  it('charges the rows that actually ran, not the number of batches', async () => {
    // A runs 4-row batches, B 1-row batches: charging per batch would give A four times B's rows.
    const exec = new FakeExecutor(0);
    const policy = new TenantFairPolicy({ weightOf: () => 1 });
    const scheduler = new BatchScheduler({ clock: new ManualClock(), selectionPolicy: () => policy });
    const small = batching({
      maxBatchSize: 1,
      maxExecutionBatchSize: 1,
      batchTimeoutMicros: 0,
      numBatchThreads: 1,
    });
    scheduler.addModel('big', { executor: exec, signature: SIGNATURE, batching: full(1) });
    scheduler.addModel('tiny', { executor: exec, signature: SIGNATURE, batching: small });
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++)
      pending.push(scheduler.enqueue('big', { inputs: rowsOf(4), outputNames: [], tenant: 'A' }));
    for (let i = 0; i < 80; i++)
      pending.push(scheduler.enqueue('tiny', { inputs: rowsOf(1), outputNames: [], tenant: 'B' }));
    exec.setSlots(1);
    const rows: Record<string, number> = { A: 0, B: 0 };
    for (let i = 0; i < 25; i++) {
      await flush();
      const [batch] = exec.open;
      rows[batch.modelKey === 'big' ? 'A' : 'B'] += batch.inputs.x.shape[0];
      exec.complete(batch);
    }
    // 25 batches: by rows each tenant gets ~equal rows (A: 5 batches of 4 = 20 rows, B: 20 batches of 1).
    assert.deepEqual(rows, { A: 20, B: 20 });
    exec.setSlots(100);
    await exec.drain();
    await Promise.all(pending);
  });

  it('does not let an idle tenant bank credit', () => {
    const policy = new TenantFairPolicy({ weightOf: () => 1, quantumRows: 4 });
    const runs = new Map<string | undefined, number>();
    const cand = (key: string, tenant: string, order: number) => ({
      key,
      modelName: key,
      order,
      pendingRequests: 1,
      pendingRows: 4,
      runningBatches: 0,
      oldestEnqueuedAt: () => 0,
      headTenant: tenant,
      rowsRunByTenant: runs,
    });
    const a = cand('a', 'A', 0);
    // A alone for a while: its deficit never exceeds one quantum.
    for (let i = 0; i < 5; i++) {
      assert.equal(policy.select([a]), a);
      runs.set('A', (runs.get('A') ?? 0) + 4);
    }
    policy.select([a]);
    assert.ok(policy.deficitOf('A') <= 4, `deficit ${policy.deficitOf('A')}`);
  });

  it('rejects a non-positive quantum', () => {
    assert.throws(() => new TenantFairPolicy({ weightOf: () => 1, quantumRows: 0 }), /quantumRows/);
  });
});

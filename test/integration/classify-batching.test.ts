import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { METRIC_NAMES } from '../../src/main/metrics/metric-families.js';
import { TIMEOUT_HEADER } from '../../src/main/rest/rest-context.js';
import { fakeModelBase, until } from '../fixtures/fake-model.js';
import { FAKE_RUN, releaseHeld } from '../fixtures/fake-runtime.js';
import { postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';
import { parseExposition, value } from '../unit/metrics/exposition.js';

/**
 * Regress requests are Predict calls on the model's own signature: queued behind a busy
 * worker, a regress and a predict on the same model leave the queue as ONE batch. The fake
 * runtime (y = x + 1; x = [SLEEP, ms] holds the only worker) makes the queueing visible
 * through the scheduler's pending count; the batch sizes come from the metrics.
 */

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;
const LONG = { [TIMEOUT_HEADER]: '60000' };

describe('Regress batches with Predict traffic', () => {
  let ts: TestServer;
  const base = fakeModelBase('ts-classify-batching-');

  before(async () => {
    ts = await startTestServer(
      {
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        models: [
          {
            name: 'f',
            base_path: base,
            platform: 'onnx',
            batching: { max_batch_size: 4, batch_timeout_micros: 0, max_enqueued_batches: 4 },
            signatures: { plus_one: { method: 'regress', inputs: { v: 'x' }, values: 'y' } },
          },
        ],
      },
      FAKE_RUNTIME,
    );
  });
  after(async () => {
    await ts?.close();
  });

  const batchSizes = async () => {
    const text = await (await fetch(`${ts.restUrl}/monitoring/prometheus/metrics`)).text();
    const s = parseExposition(text);
    const labels = { model_name: 'f', op_name: 'tensorserve_batch' };
    return {
      count: value(s, `${METRIC_NAMES.inputBatchSize}_count`, labels),
      sum: value(s, `${METRIC_NAMES.inputBatchSize}_sum`, labels),
    };
  };

  it('a queued regress and a queued predict run in one batch of two rows', async () => {
    const pending = () => ts.server.scheduler.pending();
    const running = () => ts.server.pools.get('cpu')!.stats().running;
    const before = await batchSizes();
    const held = postJson(`${ts.restUrl}/v1/models/f:predict`, { instances: [[FAKE_RUN.HOLD, 0]] }, LONG);
    await until('the holding request runs', () => running() === 1 && pending() === 0);
    const predict = postJson(`${ts.restUrl}/v1/models/f:predict`, { instances: [[5]] }, LONG);
    await until('the predict is queued', () => pending() === 1);
    const regress = postJson(
      `${ts.restUrl}/v1/models/f:regress`,
      { signature_name: 'plus_one', examples: [{ v: 7 }] },
      LONG,
    );
    await until('the regress is queued beside it', () => pending() === 2);
    releaseHeld(path.join(base, '1'));
    assert.equal((await held).status, 200);
    const [p, r] = await Promise.all([predict, regress]);
    assert.equal(p.status, 200, p.text);
    assert.deepEqual((p.body as { predictions: { y: number[] }[] }).predictions[0].y, [6]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { result: [8] });
    const now = await batchSizes();
    // The holding batch (1 row), then one batch holding both queued rows.
    assert.equal(now.count - before.count, 2);
    assert.equal(now.sum - before.sum, 3);
  });
});

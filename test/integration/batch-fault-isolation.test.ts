import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { METRIC_NAMES } from '../../src/main/metrics/metric-families.js';
import { TIMEOUT_HEADER } from '../../src/main/rest/rest-context.js';
import { fakeModelBase, until } from '../fixtures/fake-model.js';
import { FAKE_RUN, releaseHeld } from '../fixtures/fake-runtime.js';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * Batch fault isolation through the real server: one worker running the fake runtime, which
 * fails a whole batch when any of its rows is marked FAIL_ROW (as an out-of-range index fails
 * an ONNX Gather for the whole batch). A held request keeps the worker busy while good requests
 * and one marked request queue behind it, so they share one batch.
 */

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;
const LONG = { [TIMEOUT_HEADER]: '60000' };

interface Reply {
  readonly status: number;
  readonly body: { predictions?: { y: number[] }[]; error?: string };
}

describe('batch fault isolation through the server', () => {
  let ts: TestServer;
  const base = fakeModelBase('ts-isolation-');

  before(async () => {
    ts = await startTestServer(
      {
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        models: [
          {
            name: 'f',
            base_path: base,
            platform: 'onnx',
            batching: { max_batch_size: 16, batch_timeout_micros: 0 },
          },
        ],
      },
      FAKE_RUNTIME,
    );
  });

  after(async () => {
    await ts?.close();
  });

  const pending = () => ts.server.scheduler.pending();
  const running = () => ts.server.pools.get('cpu')!.stats().running;

  async function post(row: number[]): Promise<Reply> {
    const res = await fetch(`${ts.restUrl}/v1/models/f:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [row] }),
      headers: { 'content-type': 'application/json', ...LONG },
    });
    return { status: res.status, body: (await res.json()) as Reply['body'] };
  }

  async function metric(event: string): Promise<number> {
    const text = await (await fetch(`${ts.restUrl}/monitoring/prometheus/metrics`)).text();
    const prefix = `${METRIC_NAMES.batchFaultIsolation}{model="f",event="${event}"}`;
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  it('fails only the marked request of a batch; the others sharing it are answered', async () => {
    const held = post([FAKE_RUN.HOLD, 0]);
    await until('the holding request runs', () => running() === 1 && pending() === 0);
    const replies: Promise<Reply>[] = [];
    for (let i = 0; i < 7; i++) {
      replies.push(post(i === 4 ? [FAKE_RUN.FAIL_ROW, 0] : [i, i]));
      await until(`request ${i} is queued`, () => pending() === i + 1);
    }
    releaseHeld(path.join(base, '1'));
    assert.equal((await held).status, 200);
    const answered = await Promise.all(replies);
    assert.deepEqual(
      answered.map((r) => r.status),
      [200, 200, 200, 200, 400, 200, 200],
    );
    assert.match(answered[4].body.error ?? '', /marked to fail/);
    assert.deepEqual(
      answered.filter((_, i) => i !== 4).map((r) => r.body.predictions?.[0].y),
      [0, 1, 2, 3, 5, 6].map((i) => [i + 1, i + 1]),
    );
    // 7 requests in one batch: the failing one is found by halving (7 → 4 → 2 → 1).
    assert.equal(await metric('bisected'), 3);
    assert.equal(await metric('isolated'), 1);
  });
});

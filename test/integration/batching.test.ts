import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/main/grpc/grpc-protos.js';
import { TIMEOUT_HEADER } from '../../src/main/rest/rest-context.js';
import { fakeModelBase, until } from '../fixtures/fake-model.js';
import { FAKE_RUN } from '../fixtures/fake-runtime.js';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * The batch scheduler through the real server: REST and gRPC front ends, the prediction
 * service, the scheduler and a one-worker device pool running the fault-injecting fake
 * runtime (y = x + 1; x[0] = SLEEP holds the worker x[1] ms, x[0] = EXIT kills it). Tests
 * hold the only worker with a sleeping request, queue work behind it and watch the
 * scheduler's pending count; nothing asserts on durations.
 */

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;
/** Long enough that a 100 ms queue deadline passes while it runs. */
const HOLD_MS = 1000;
const LONG = { [TIMEOUT_HEADER]: '60000' };
const QUEUE_FULL = 'The batch scheduling queue to which this task was submitted is full';

interface Reply {
  readonly status: number;
  readonly body: { predictions?: { y: number[] }[]; error?: string };
}

type PredictClient = grpc.Client & {
  Predict(
    req: unknown,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res: unknown) => void,
  ): grpc.ClientUnaryCall;
};

describe('dynamic batching through the server', () => {
  let ts: TestServer;
  let client: PredictClient;

  before(async () => {
    ts = await startTestServer(
      {
        server: { default_request_timeout_ms: 200 },
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        models: [
          {
            name: 'f',
            base_path: fakeModelBase('ts-batching-'),
            platform: 'onnx',
            batching: { max_batch_size: 4, batch_timeout_micros: 0, max_enqueued_batches: 2 },
          },
          {
            name: 'g',
            base_path: fakeModelBase('ts-batching-'),
            platform: 'onnx',
            batching: { max_batch_size: 1, batch_timeout_micros: 0 },
          },
        ],
      },
      FAKE_RUNTIME,
    );
    const Ctor = (
      loadProtos().grpcObject as unknown as {
        tensorflow: {
          serving: { PredictionService: new (a: string, c: grpc.ChannelCredentials) => PredictClient };
        };
      }
    ).tensorflow.serving.PredictionService;
    client = new Ctor(ts.grpcAddress, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await ts?.close();
  });

  const pending = () => ts.server.scheduler.pending();
  const running = () => ts.server.pools.get('cpu')!.stats().running;

  async function post(
    model: string,
    row: number[],
    headers: Record<string, string> = LONG,
    signal?: AbortSignal,
  ): Promise<Reply> {
    const res = await fetch(`${ts.restUrl}/v1/models/${model}:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [row] }),
      headers: { 'content-type': 'application/json', ...headers },
      signal,
    });
    return { status: res.status, body: (await res.json()) as Reply['body'] };
  }

  /**
   * Starts a request that occupies the only worker and waits until it runs; `held` is its
   * reply (wrapped, so the async function does not wait for it).
   */
  async function hold(ms = HOLD_MS): Promise<{ held: Promise<Reply> }> {
    await until('the worker is idle', () => running() === 0 && pending() === 0);
    const held = post('f', [FAKE_RUN.SLEEP, ms]);
    await until('the holding request runs', () => running() === 1 && pending() === 0);
    return { held };
  }

  /** TF Serving's request_count of model f with `status`, from the metrics endpoint. */
  async function requestCount(status: string): Promise<number> {
    const text = await (await fetch(`${ts.restUrl}/monitoring/prometheus/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`:tensorflow:serving:request_count{model_name="f",status="${status}"}`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  function grpcPredict(row: number[], options: grpc.CallOptions = {}) {
    let call: grpc.ClientUnaryCall | undefined;
    const result = new Promise<grpc.ServiceError | null>((resolve) => {
      call = client.Predict(
        {
          model_spec: { name: 'f' },
          inputs: {
            x: {
              dtype: 'DT_FLOAT',
              tensor_shape: { dim: [{ size: 1 }, { size: row.length }] },
              float_val: row,
            },
          },
        },
        options,
        (err) => resolve(err),
      );
    });
    return { call: call!, result };
  }

  it(`drops a request whose ${TIMEOUT_HEADER} deadline passes while queued (504)`, async () => {
    const { held } = await hold();
    const reply = await post('f', [1, 2], { [TIMEOUT_HEADER]: '100' });
    assert.equal(reply.status, 504);
    assert.equal(reply.body.error, 'Request timeout expired while waiting in the batch queue');
    assert.equal(pending(), 0);
    assert.equal(running(), 1, 'dropped while the worker was still busy');
    assert.equal((await held).status, 200);
  });

  it('applies server.default_request_timeout_ms to a request without the header (504)', async () => {
    const { held } = await hold();
    const reply = await post('f', [1, 2], {});
    assert.equal(reply.status, 504);
    assert.equal(pending(), 0);
    assert.equal((await held).status, 200);
  });

  it("answers a full queue at once with 503 and TF Serving's message", async () => {
    const { held } = await hold();
    // max_enqueued_batches 2 × max_batch_size 4 = 8 rows may wait.
    const queued: Promise<Reply>[] = [];
    for (let i = 0; i < 8; i++) queued.push(post('f', [i, i]));
    await until('8 requests are queued', () => pending() === 8);
    const refused = await post('f', [9, 9]);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error, QUEUE_FULL);
    assert.equal(pending(), 8, 'the refused request never queued');
    assert.equal((await held).status, 200);
    const replies = await Promise.all(queued);
    assert.deepEqual(
      replies.map((r) => r.status),
      new Array(8).fill(200),
    );
    assert.deepEqual(
      replies.map((r) => r.body.predictions?.[0].y),
      Array.from({ length: 8 }, (_, i) => [i + 1, i + 1]),
    );
  });

  it('removes the queued request of a REST client that disconnects', async () => {
    const { held } = await hold();
    const controller = new AbortController();
    const aborted = post('f', [1, 2], LONG, controller.signal);
    await until('the request is queued', () => pending() === 1);
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    await until('the request left the queue', () => pending() === 0);
    assert.equal(running(), 1, 'removed while the worker was still busy');
    assert.equal((await held).status, 200);
  });

  it('removes the queued request of a cancelled gRPC call', async () => {
    const { held } = await hold();
    const { call, result } = grpcPredict([1, 2]);
    await until('the call is queued', () => pending() === 1);
    call.cancel();
    assert.equal((await result)?.code, grpc.status.CANCELLED);
    await until('the call left the queue', () => pending() === 0);
    assert.equal(running(), 1);
    assert.equal((await held).status, 200);
  });

  it('drops a gRPC call whose deadline passes while queued, recorded as DEADLINE_EXCEEDED', async () => {
    const before = await requestCount('DEADLINE_EXCEEDED');
    const { held } = await hold();
    const { result } = grpcPredict([1, 2], { deadline: Date.now() + 150 });
    await until('the call is queued', () => pending() === 1);
    assert.equal((await result)?.code, grpc.status.DEADLINE_EXCEEDED);
    await until('the call left the queue', () => pending() === 0);
    assert.equal(running(), 1, 'dropped while the worker was still busy');
    assert.equal((await held).status, 200);
    assert.equal(await requestCount('DEADLINE_EXCEEDED'), before + 1, 'not counted as CANCELLED');
  });

  it('fails every request of a batch whose worker crashes, and runs the requests queued behind it', async () => {
    const { held } = await hold();
    // Three [1,2] rows form one batch (EXIT first); four [1,3] rows cannot join it (no padding).
    const batch = [post('f', [FAKE_RUN.EXIT, 0])];
    await until('the crashing request is queued first', () => pending() === 1);
    batch.push(post('f', [1, 1]), post('f', [2, 2]));
    await until('the batch is queued', () => pending() === 3);
    const behind = [1, 2, 3, 4].map((i) => post('f', [i, i, i]));
    await until('the requests behind it are queued', () => pending() === 7);
    assert.equal((await held).status, 200);

    const failed = await Promise.all(batch);
    for (const reply of failed) {
      assert.equal(reply.status, 503);
      assert.match(reply.body.error ?? '', /crashed while running model 'f' version 1/);
      assert.doesNotMatch(reply.body.error ?? '', /#/, 'no internal key');
    }
    const served = await Promise.all(behind);
    assert.deepEqual(
      served.map((r) => r.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual(
      served.map((r) => r.body.predictions?.[0].y),
      [
        [2, 2, 2],
        [3, 3, 3],
        [4, 4, 4],
        [5, 5, 5],
      ],
    );
    assert.equal(ts.server.pools.get('cpu')!.stats().restarts, 1);
    assert.equal(pending(), 0);
  });

  it('serves two models sharing one device in turn, so both progress', async () => {
    const { held } = await hold();
    const done: string[] = [];
    const track = (label: string, p: Promise<Reply>) =>
      p.then((r) => {
        done.push(label);
        return r;
      });
    // f's requests arrive first and would fill f's batches; g (max_batch_size 1) still gets turns.
    const fs = [];
    for (let i = 0; i < 8; i++) {
      fs.push(track('f', post('f', [i, i])));
      await until(`f request ${i} is queued`, () => pending() === i + 1);
    }
    const gs = [];
    for (let i = 0; i < 2; i++) {
      gs.push(track('g', post('g', [i, i])));
      await until(`g request ${i} is queued`, () => pending() === 9 + i);
    }
    assert.equal((await held).status, 200);
    const replies = await Promise.all([...fs, ...gs]);
    assert.ok(replies.every((r) => r.status === 200));
    // Round robin: f's first batch (4), g, f's second batch (4), g. FIFO across models would end with g, g.
    assert.notDeepEqual(done.slice(-2), ['g', 'g'], `completion order ${done.join(',')}`);
    assert.ok(done.indexOf('g') < done.lastIndexOf('f'), `completion order ${done.join(',')}`);
  });
});

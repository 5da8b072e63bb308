import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { FAKE_INTERNAL_DETAIL, FAKE_RUN } from '../fixtures/fake-runtime.js';
import { floatTensor, grpcCall, grpcClient, grpcError } from '../fixtures/grpc-client.js';
import { postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

const FAKE_RUNTIME = new URL('../fixtures/fake-runtime.js', import.meta.url).href;

/** A fake-runtime model base path with version 1. */
function fakeModel(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-leak-'));
  mkdirSync(path.join(dir, '1'));
  writeFileSync(path.join(dir, '1', 'fake.json'), '{}');
  return dir;
}

interface LogLine {
  level: number;
  msg: string;
  request_id?: string;
  err?: { message?: string };
}

/** pino's error level. */
const ERROR = 50;

describe('internal errors do not leak to clients (REST and gRPC)', () => {
  let ts: TestServer;
  const lines: string[] = [];
  const logged = (): LogLine[] => lines.map((l) => JSON.parse(l) as LogLine);

  before(async () => {
    ts = await startTestServer(
      {
        server: { log_level: 'info' },
        devices: { cpu: { workers: 1, intra_op_threads: 1 } },
        model_defaults: { load_retries: 0 },
        models: [{ name: 'm', base_path: fakeModel(), platform: 'onnx' }],
      },
      FAKE_RUNTIME,
      { write: (line: string) => lines.push(line) },
    );
  });

  after(async () => {
    await ts.close();
  });

  /** The error lines logged under one request id. */
  const errorsOf = (requestId: string) =>
    logged().filter((l) => l.level >= ERROR && l.request_id === requestId);

  it('REST: a runtime that throws gives 500 with a generic message and the request id; the cause is logged once', async () => {
    const id = 'leak-rest-1';
    const res = await postJson(
      `${ts.restUrl}/v1/models/m:predict`,
      { inputs: { x: [[FAKE_RUN.THROW_INTERNAL]] } },
      { 'x-request-id': id },
    );
    assert.equal(res.status, 500, res.text);
    assert.deepEqual(res.body, { error: `Internal error (request id ${id})` });
    assert.doesNotMatch(res.text, /onnxruntime|bfc_arena|\.cc:/);
    const errors = errorsOf(id);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(String(errors[0].err?.message), /bfc_arena\.cc:360/);
  });

  it('REST KServe v2: the same generic answer', async () => {
    const id = 'leak-v2-1';
    const res = await postJson(
      `${ts.restUrl}/v2/models/m/infer`,
      { inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [FAKE_RUN.THROW_INTERNAL] }] },
      { 'x-request-id': id },
    );
    assert.equal(res.status, 500, res.text);
    assert.deepEqual(res.body, { error: `Internal error (request id ${id})` });
    assert.equal(errorsOf(id).length, 1);
  });

  it('gRPC: INTERNAL with a generic message and the request id; the cause is logged once', async () => {
    const id = 'leak-grpc-1';
    const client = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
    try {
      const x = {
        ...floatTensor([FAKE_RUN.THROW_INTERNAL]),
        tensor_shape: { dim: [{ size: '1' }, { size: '1' }] },
      };
      const err = await grpcError(
        grpcCall(client, 'Predict', { model_spec: { name: 'm' }, inputs: { x } }, { 'x-request-id': id }),
        grpc.status.INTERNAL,
      );
      assert.equal(err.details, `Internal error (request id ${id})`);
      assert.equal(err.metadata.get('x-request-id')[0], id);
      const errors = errorsOf(id);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.ok(String(errors[0].err?.message).includes(FAKE_INTERNAL_DETAIL));
    } finally {
      client.close();
    }
  });

  it('a client-facing error (the runtime rejecting the input) is answered as it is and not logged as internal', async () => {
    const id = 'leak-rest-2';
    const res = await postJson(
      `${ts.restUrl}/v1/models/m:predict`,
      { inputs: { x: [[FAKE_RUN.REJECT]] } },
      { 'x-request-id': id },
    );
    assert.equal(res.status, 400, res.text);
    assert.match(String(res.body?.error), /fake runtime rejected the input/);
    assert.equal(errorsOf(id).length, 0);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { floatTensor, grpcCall, grpcClient, grpcError } from '../fixtures/grpc-client.js';
import { postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

/** Bound on one log line: the capped fields (1 KiB each) plus the fixed fields around them. */
const MAX_LINE = 8 * 1024;

describe('client-supplied fields in the logs are capped', () => {
  let ts: TestServer;
  const lines: string[] = [];
  before(async () => {
    ts = await startTestServer(
      {
        server: { access_log_sample_rate: 1, log_level: 'info' },
        models: [{ name: 'half_plus_two', base_path: 'models/half_plus_two' }],
      },
      undefined,
      { write: (line: string) => lines.push(line) },
    );
  });
  after(() => ts.close());

  it('a gRPC Predict naming a 1,000,000-character model writes no line over 8 KiB', async () => {
    const client = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
    const name = 'm'.repeat(1_000_000);
    const before = lines.length;
    const err = await grpcError(
      grpcCall(client, 'Predict', { model_spec: { name }, inputs: { x: floatTensor([1]) } }),
      grpc.status.NOT_FOUND,
    );
    assert.ok(err.details.length <= 1024, 'the client message is capped too');
    client.close();
    const written = lines.slice(before);
    const access = written
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.msg === 'access');
    assert.ok(access, 'the failed call still has its access line');
    assert.match(String(access.model), /^m{1024}\.\.\.\[998976 more chars\]$/);
    for (const line of written) assert.ok(line.length < MAX_LINE, `log line of ${line.length} chars`);
  });

  it('a REST predict on a long model path writes a capped access line', async () => {
    const before = lines.length;
    const name = 'n'.repeat(12_000);
    const r = await postJson(`${ts.restUrl}/v1/models/${name}:predict`, '{"instances":[1.0]}');
    assert.equal(r.status, 404, r.text);
    const written = lines.slice(before);
    assert.ok(written.length > 0);
    for (const line of written) assert.ok(line.length < MAX_LINE, `log line of ${line.length} chars`);
    const access = written
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.msg === 'access');
    assert.match(String(access?.url), /\.\.\.\[\d+ more chars\]$/);
  });
});

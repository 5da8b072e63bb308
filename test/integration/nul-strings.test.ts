import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

/** One TF Serving row of identity_no_fp16 (two elements an input) with `str` as the string input. */
function tfRow(str: string): string {
  return (
    '{"in_float32":[1.0,2],"in_float64":[0.5,3],"in_int8":[1,2],"in_int16":[1,2],"in_int32":[1,2],' +
    '"in_int64":[1,2],"in_uint8":[1,2],"in_uint16":[1,2],"in_uint32":[1,2],"in_uint64":[1,2],' +
    `"in_bool":[true,false],"in_string":${str}}`
  );
}

/** A KServe v2 JSON request for identity_no_fp16 with `strings` as the BYTES input. */
function v2Body(strings: string[]): string {
  const numeric = [
    ['in_float32', 'FP32'],
    ['in_float64', 'FP64'],
    ['in_int8', 'INT8'],
    ['in_int16', 'INT16'],
    ['in_int32', 'INT32'],
    ['in_int64', 'INT64'],
    ['in_uint8', 'UINT8'],
    ['in_uint16', 'UINT16'],
    ['in_uint32', 'UINT32'],
    ['in_uint64', 'UINT64'],
  ].map(([name, datatype]) => ({ name, datatype, shape: [1, strings.length], data: strings.map(() => 1) }));
  return JSON.stringify({
    inputs: [
      ...numeric,
      { name: 'in_bool', datatype: 'BOOL', shape: [1, strings.length], data: strings.map(() => true) },
      { name: 'in_string', datatype: 'BYTES', shape: [1, strings.length], data: strings },
    ],
  });
}

describe('string inputs with NUL bytes on an ONNX model', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      server: { grpc_port: -1 },
      models: [{ name: 'identity_no_fp16', base_path: 'models/identity_no_fp16' }],
    });
  });
  after(() => ts.close());

  it('TF Serving REST: {"b64":"AGEA"} (\\0a\\0) is refused naming the input, not answered as ""', async () => {
    const r = await postJson(
      `${ts.restUrl}/v1/models/identity_no_fp16:predict`,
      `{"instances":[${tfRow('[{"b64":"AGEA"},"x"]')}]}`,
    );
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.body, {
      error:
        "Input 'in_string' of model 'identity_no_fp16': string element 0 contains a NUL byte, which the onnx runtime cannot represent",
    });
  });

  it('KServe v2 JSON: BYTES element "a\\u0000b" is refused, naming the element', async () => {
    const r = await postJson(`${ts.restUrl}/v2/models/identity_no_fp16/infer`, v2Body(['ok', 'a\u0000b']));
    assert.equal(r.status, 400, r.text);
    assert.match(
      String(r.body?.error),
      /^Input 'in_string' of model 'identity_no_fp16': string element 1 contains a NUL byte/,
    );
  });

  it('strings without NUL still round-trip, including other control bytes and UTF-8', async () => {
    const r = await postJson(`${ts.restUrl}/v2/models/identity_no_fp16/infer`, v2Body(['a\u0001b', 'żółw']));
    assert.equal(r.status, 200, r.text);
    const out = ((r.body?.outputs ?? []) as { name: string; data: unknown[] }[]).find(
      (o) => o.name === 'out_string',
    );
    assert.deepEqual(out?.data, ['a\u0001b', 'żółw']);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

interface TensorInfoJson {
  dtype: string;
  tensor_shape: { dim: { size: string; name: string }[]; unknown_rank: boolean };
}
interface SignatureJson {
  inputs: Record<string, TensorInfoJson>;
  outputs: Record<string, TensorInfoJson>;
  method_name: string;
}

/** The serving_default SignatureDef of a TF Serving metadata body. */
function signatureOf(body: unknown): SignatureJson {
  return (body as { metadata: { signature_def: { signature_def: Record<string, SignatureJson> } } }).metadata
    .signature_def.signature_def.serving_default;
}

const ALL_MODELS = [
  'half_plus_two',
  'half_plus_two_tfjs',
  'cnn',
  'cnn_tfjs',
  'multi_io',
  'multi_io_tfjs',
  'identity_no_fp16',
];

/** A deterministic 28x28 image batch in [0, 1). */
function images(n: number): number[][][][] {
  return Array.from({ length: n }, (_, b) =>
    Array.from({ length: 28 }, (_, y) =>
      Array.from({ length: 28 }, (_, x) => [((x * 7 + y * 13 + b * 31) % 97) / 97]),
    ),
  );
}

describe('TF Serving REST API on the example models', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      server: {
        grpc_port: -1,
        limits: { max_body_bytes: 200_000, max_json_depth: 16, max_tensor_elements: 100_000 },
      },
      models: ALL_MODELS.map((name) => ({ name, base_path: `models/${name}` })),
    });
  });
  after(() => ts.close());

  for (const model of ['half_plus_two', 'half_plus_two_tfjs']) {
    it(`${model}: row format predict answers TF Serving's example`, async () => {
      const r = await postJson(`${ts.restUrl}/v1/models/${model}:predict`, '{"instances":[1.0,2.0,5.0]}');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, '{"predictions":[2.5,3.0,4.5]}');
      assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    });

    it(`${model}: columnar format, versions and the default signature name`, async () => {
      const r = await postJson(`${ts.restUrl}/v1/models/${model}/versions/1:predict`, {
        signature_name: 'serving_default',
        inputs: { x: [0, -4] },
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { outputs: [2, 0] });
    });
  }

  it('the ONNX and TF.js CNNs agree to 1e-5', async () => {
    const body = { instances: images(3) };
    const onnx = await postJson(`${ts.restUrl}/v1/models/cnn:predict`, body);
    const tfjs = await postJson(`${ts.restUrl}/v1/models/cnn_tfjs:predict`, body);
    assert.equal(onnx.status, 200, onnx.text);
    assert.equal(tfjs.status, 200, tfjs.text);
    const a = onnx.body?.predictions as number[][];
    const b = tfjs.body?.predictions as number[][];
    assert.equal(a.length, 3);
    for (let i = 0; i < 3; i++) {
      assert.equal(a[i].length, 10);
      assert.ok(Math.abs(a[i].reduce((s, v) => s + v, 0) - 1) < 1e-5, 'softmax rows sum to 1');
      for (let j = 0; j < 10; j++)
        assert.ok(Math.abs(a[i][j] - b[i][j]) < 1e-5, `row ${i} class ${j}: ${a[i][j]} vs ${b[i][j]}`);
    }
  });

  it('multi_io: several named inputs and outputs in both formats', async () => {
    const meta = await getJson(`${ts.restUrl}/v1/models/multi_io/metadata`);
    assert.equal(meta.status, 200, meta.text);
    const sig = signatureOf(meta.body);
    const inputNames = Object.keys(sig.inputs).sort();
    const outputNames = Object.keys(sig.outputs).sort();
    assert.ok(inputNames.length >= 2 && outputNames.length >= 2);
    // Build a row request from the signature: one row of ones of the right width per input.
    const row: Record<string, unknown> = {};
    for (const name of inputNames) {
      const dims = sig.inputs[name].tensor_shape.dim.map((d: { size: string }) => Number(d.size));
      row[name] = dims.length > 1 ? Array.from({ length: dims[1] }, () => 1) : 1;
    }
    const rowRes = await postJson(`${ts.restUrl}/v1/models/multi_io:predict`, { instances: [row, row] });
    assert.equal(rowRes.status, 200, rowRes.text);
    const predictions = rowRes.body?.predictions as Record<string, unknown>[];
    assert.equal(predictions.length, 2);
    assert.deepEqual(Object.keys(predictions[0]).sort(), outputNames);
    const columnar: Record<string, unknown> = {};
    for (const name of inputNames) columnar[name] = [row[name], row[name]];
    const colRes = await postJson(`${ts.restUrl}/v1/models/multi_io:predict`, { inputs: columnar });
    assert.equal(colRes.status, 200, colRes.text);
    const outputs = colRes.body?.outputs as Record<string, unknown[]>;
    assert.deepEqual(Object.keys(outputs).sort(), outputNames);
    for (const name of outputNames) assert.deepEqual(outputs[name][0], predictions[0][name]);
  });

  it('multi_io_tfjs: same signature and outputs as the ONNX multi_io, columnar and row', async () => {
    const [onnxMeta, tfjsMeta] = await Promise.all(
      ['multi_io', 'multi_io_tfjs'].map((m) => getJson(`${ts.restUrl}/v1/models/${m}/metadata`)),
    );
    assert.equal(tfjsMeta.status, 200, tfjsMeta.text);
    const onnxSig = signatureOf(onnxMeta.body);
    const tfjsSig = signatureOf(tfjsMeta.body);
    // Client-facing keys, not the graph's `a:0` / `Identity_2:0` tensor names.
    assert.deepEqual(Object.keys(tfjsSig.inputs).sort(), ['a', 'b', 'scale']);
    assert.deepEqual(Object.keys(tfjsSig.outputs).sort(), ['count', 'greater', 'sum', 'weighted']);
    assert.deepEqual(tfjsSig, onnxSig);

    const a = [
      [1, 2, 3],
      [-0.5, 0.25, 7.125],
      [0.1, 0.2, 0.3],
    ];
    const b = [
      [3, 2, 1],
      [-1.5, 0.25, 2],
      [0.3, -0.2, 0.1],
    ];
    const scale = [[2], [-0.75], [1.5]];
    const requests = {
      columnar: { inputs: { a, b, scale } },
      row: { instances: a.map((_, i) => ({ a: a[i], b: b[i], scale: scale[i] })) },
    };
    type Outputs = Record<'sum' | 'weighted' | 'greater' | 'count', unknown[]>;
    for (const [format, body] of Object.entries(requests)) {
      const [onnx, tfjs] = await Promise.all(
        ['multi_io', 'multi_io_tfjs'].map((m) => postJson(`${ts.restUrl}/v1/models/${m}:predict`, body)),
      );
      assert.equal(onnx.status, 200, `${format}: ${onnx.text}`);
      assert.equal(tfjs.status, 200, `${format}: ${tfjs.text}`);
      // Columnar answers { outputs: { name: [rows] } }; row format { predictions: [{ name: row }] }.
      const columns = (res: typeof onnx): Outputs => {
        if (format === 'columnar') return res.body?.outputs as Outputs;
        const rows = res.body?.predictions as Record<string, unknown>[];
        const out = { sum: [], weighted: [], greater: [], count: [] } as Outputs;
        for (const r of rows) for (const k of Object.keys(out) as (keyof Outputs)[]) out[k].push(r[k]);
        return out;
      };
      const x = columns(onnx);
      const y = columns(tfjs);
      assert.deepEqual(Object.keys(y).sort(), Object.keys(x).sort(), format);
      for (const name of ['sum', 'weighted'] as const) {
        assert.equal(y[name].length, 3, `${format} ${name}`);
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) {
            const u = (x[name][i] as number[])[j];
            const v = (y[name][i] as number[])[j];
            assert.ok(Math.abs(u - v) <= 1e-6, `${format} ${name}[${i}][${j}]: ${u} vs ${v}`);
          }
        }
      }
      assert.deepEqual(y.greater, x.greater, `${format} greater`);
      assert.deepEqual(y.count, x.count, `${format} count`);
      assert.deepEqual(y.greater, [
        [false, false, true],
        [true, false, true],
        [false, true, true],
      ]);
      assert.deepEqual(y.count, [1, 2, 2]);
    }
  });

  it('status and metadata answer in TF Serving JSON shapes', async () => {
    const status = await getJson(`${ts.restUrl}/v1/models/half_plus_two`);
    assert.equal(status.status, 200);
    assert.deepEqual(status.body, {
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    const v = await getJson(`${ts.restUrl}/v1/models/half_plus_two/versions/1`);
    assert.deepEqual(v.body, status.body);
    const meta = await getJson(`${ts.restUrl}/v1/models/half_plus_two/metadata`);
    assert.equal(meta.status, 200);
    const body = meta.body as { model_spec: unknown };
    assert.deepEqual(body.model_spec, { name: 'half_plus_two', signature_name: '', version: '1' });
    const sig = signatureOf(meta.body);
    assert.equal(sig.method_name, 'tensorflow/serving/predict');
    assert.equal(sig.inputs.x.dtype, 'DT_FLOAT');
    assert.deepEqual(sig.inputs.x.tensor_shape, { dim: [{ size: '-1', name: '' }], unknown_rank: false });
    assert.equal(sig.outputs.y.dtype, 'DT_FLOAT');
  });

  const bad: [string, string, string, number, RegExp][] = [
    ['malformed JSON', 'half_plus_two:predict', '{"instances":[1.0,', 400, /JSON/i],
    [
      'both instances and inputs',
      'half_plus_two:predict',
      '{"instances":[1],"inputs":[1]}',
      400,
      /instances.*inputs|inputs.*instances/,
    ],
    [
      'neither instances nor inputs',
      'half_plus_two:predict',
      '{"foo":1}',
      400,
      /Missing 'inputs' or 'instances' key/,
    ],
    [
      'ragged lists',
      'half_plus_two:predict',
      '{"instances":[[1,2],[3]]}',
      400,
      /^Encountered list at unexpected size/,
    ],
    [
      'ragged columnar lists',
      'multi_io:predict',
      '{"inputs":{"a":[[1,2,3],[1,2]],"b":[[1,2,3],[1,2,3]],"scale":[[1],[1]]}}',
      400,
      /^Encountered list at unexpected size \(input 'a'\)/,
    ],
    [
      'wrong JSON type for the dtype',
      'half_plus_two:predict',
      '{"instances":["a"]}',
      400,
      /^Input 'x' of dtype float32: expected a number, got "a"$/,
    ],
    ['shape incompatible with the signature', 'cnn:predict', '{"instances":[[1,2,3]]}', 400, /shape|size/i],
    [
      'unknown model',
      'nope:predict',
      '{"instances":[1]}',
      404,
      /Servable not found for request: Latest\(nope\)/,
    ],
    [
      'unknown version',
      'half_plus_two/versions/7:predict',
      '{"instances":[1]}',
      404,
      /Specific\(half_plus_two, 7\)/,
    ],
    [
      'unknown label',
      'half_plus_two/labels/canary:predict',
      '{"instances":[1]}',
      400,
      /Unrecognized servable version label: canary/,
    ],
    [
      'JSON nested too deep',
      'half_plus_two:predict',
      `{"instances":${'['.repeat(40)}1${']'.repeat(40)}}`,
      400,
      /depth|nest/i,
    ],
    // No signatures declared here: the default signature is the predict one.
    [
      'classify on the predict signature',
      'half_plus_two:classify',
      '{"examples":[]}',
      400,
      /predict signature/,
    ],
    [
      'regress on the predict signature',
      'half_plus_two:regress',
      '{"examples":[]}',
      400,
      /predict signature/,
    ],
  ];
  for (const [what, route, body, status, message] of bad) {
    it(`bad input: ${what} → ${status}`, async () => {
      const r = await postJson(`${ts.restUrl}/v1/models/${route}`, body);
      assert.equal(r.status, status, r.text);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/);
      const error = (r.body as { error: string }).error;
      assert.equal(typeof error, 'string');
      assert.match(error, message);
    });
  }

  it('bad input: body over the size limit → 413 naming the limit', async () => {
    const r = await postJson(
      `${ts.restUrl}/v1/models/half_plus_two:predict`,
      `{"instances":[${'1,'.repeat(150_000)}1]}`,
    );
    assert.equal(r.status, 413);
    assert.match((r.body as { error: string }).error, /max_body_bytes/);
  });

  it('unmatched /v1 paths and wrong methods are malformed requests', async () => {
    const r = await getJson(`${ts.restUrl}/v1/models/half_plus_two:predict`);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: 'Malformed request: GET /v1/models/half_plus_two:predict' });
    const m = await getJson(`${ts.restUrl}/v1/models`);
    assert.deepEqual(m.body, { error: 'Missing model name in request.' });
  });

  for (const method of ['PUT', 'DELETE']) {
    it(`${method} on :predict is a malformed request and runs nothing`, async () => {
      const res = await fetch(`${ts.restUrl}/v1/models/half_plus_two:predict`, {
        method,
        body: '{"instances":[1]}',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.deepEqual(await res.json(), {
        error: `Malformed request: ${method} /v1/models/half_plus_two:predict`,
      });
    });
  }

  it('a URL with broken percent-encoding answers in the /v1 error format', async () => {
    const path = '/v1/models/half_plus_two/labels/%E0%A4%A:predict';
    const r = await postJson(`${ts.restUrl}${path}`, '{"instances":[1]}');
    assert.equal(r.status, 400, r.text);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(r.body, {
      error: `Malformed request: POST ${path}: the URL is not validly percent-encoded`,
    });
  });

  it('identity_no_fp16: 64-bit integers round-trip exactly, 1.0 is rejected for int32', async () => {
    const row = (int64: string, int32: string) =>
      `{"in_float32":[1.0,2],"in_float64":[0.5,3],"in_int8":[1,2],"in_int16":[1,2],"in_int32":${int32},` +
      `"in_int64":${int64},"in_uint8":[1,2],"in_uint16":[1,2],"in_uint32":[1,2],` +
      '"in_uint64":[18446744073709551615,0],"in_bool":[true,false],"in_string":["a","b"]}';
    const route = `${ts.restUrl}/v1/models/identity_no_fp16:predict`;
    const ok = await postJson(
      route,
      `{"instances":[${row('[9007199254740993,-9223372036854775808]', '[1,2]')}]}`,
    );
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /"out_int64":\[9007199254740993,-9223372036854775808\]/);
    assert.match(ok.text, /"out_uint64":\[18446744073709551615,0\]/);
    assert.match(ok.text, /"out_float32":\[1\.0,2\.0\]/);
    assert.match(ok.text, /"out_int32":\[1,2\]/);
    const bad = await postJson(route, `{"instances":[${row('[1,2]', '[1.0,2]')}]}`);
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.body, { error: "Input 'in_int32' of dtype int32: expected an integer, got 1.0" });
  });

  it('the server stays up and serves after all the bad input', async () => {
    const r = await postJson(`${ts.restUrl}/v1/models/half_plus_two:predict`, '{"instances":[1.0]}');
    assert.equal(r.text, '{"predictions":[2.5]}');
  });
});

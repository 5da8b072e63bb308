import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/main/grpc/grpc-protos.js';
import { expected, NO_FP16, rawOf, SAMPLES, type Sample, valuesOfRaw } from '../fixtures/dtype-samples.js';
import { getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * The KServe v2 / Open Inference Protocol REST routes of a real tensorserve (ONNX and TF.js
 * runtimes, scheduler, lifecycle): server and model metadata, health, `/infer` with JSON
 * and with the binary tensor extension for every datatype, the error answers, the
 * repository extension and statistics.
 */

type Json = Record<string, unknown>;
interface OutputJson {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

/** JSON `data` of a sample. int64/uint64 stay within 2^53: JSON numbers carry no more. */
function jsonValues(s: Sample): unknown[] {
  if (s.dtype === 'int64') return [-9007199254740991, 9007199254740991, 5, -6];
  if (s.dtype === 'uint64') return [0, 9007199254740991, 10, 1];
  return [...s.values];
}

/** What comes back in JSON for jsonValues(s): float32 rounded to float32. */
function jsonExpected(s: Sample): unknown[] {
  const v = jsonValues(s);
  return s.dtype === 'float32' ? v.map((x) => Math.fround(x as number)) : v;
}

/** Compares JSON output data; float32 text is the shortest float32 repr, so compare as float32. */
function assertJsonData(s: Sample, data: unknown[] | undefined): void {
  const got = s.dtype === 'float32' ? (data ?? []).map((x) => Math.fround(x as number)) : data;
  assert.deepEqual(got, jsonExpected(s), s.kserve);
}

/** A binary-extension request body: JSON header, then the raw inputs in order. */
function binaryBody(header: Json, raws: readonly Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...raws]), headerLength: json.byteLength };
}

async function postBinary(url: string, body: Buffer, headerLength: string | number) {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerLength),
    },
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    headerLength: res.headers.get('inference-header-content-length'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** Splits a binary response into its JSON header and each binary output's bytes by name. */
function splitBinaryResponse(
  body: Buffer,
  headerLength: string | null,
): { header: { model_name: string; outputs: OutputJson[] }; raw: Map<string, Buffer> } {
  assert.ok(headerLength !== null, 'Inference-Header-Content-Length is missing');
  const n = Number(headerLength);
  const header = JSON.parse(body.subarray(0, n).toString()) as { model_name: string; outputs: OutputJson[] };
  const raw = new Map<string, Buffer>();
  let pos = n;
  for (const o of header.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    raw.set(o.name, body.subarray(pos, pos + size));
    pos += size;
  }
  assert.equal(pos, body.byteLength, 'binary outputs fill the rest of the body exactly');
  return { header, raw };
}

describe('KServe v2 REST on a real server', () => {
  let ts: TestServer;
  let v2: string;

  before(async () => {
    ts = await startTestServer({
      models: [
        { name: 'half_plus_two', base_path: 'models/half_plus_two' },
        { name: 'half_plus_two_tfjs', base_path: 'models/half_plus_two_tfjs' },
        { name: 'identity_dtypes', base_path: 'models/identity_dtypes' },
        { name: 'identity_no_fp16', base_path: 'models/identity_no_fp16' },
      ],
    });
    v2 = `${ts.restUrl}/v2`;
  });
  after(async () => {
    await ts?.close();
  });

  describe('server and model metadata, health', () => {
    it('GET /v2, /v2/health/live and /v2/health/ready', async () => {
      const server = await getJson(v2);
      assert.equal(server.status, 200);
      assert.equal(server.body?.name, 'tensorserve');
      assert.match(String(server.body?.version), /^\d+\.\d+\.\d+/);
      assert.deepEqual(server.body?.extensions, ['binary_tensor_data', 'model_repository', 'statistics']);
      assert.deepEqual(await getJson(`${v2}/health/live`).then((r) => [r.status, r.body]), [
        200,
        { live: true },
      ]);
      assert.deepEqual(await getJson(`${v2}/health/ready`).then((r) => [r.status, r.body]), [
        200,
        { ready: true },
      ]);
    });

    it('model metadata, with and without /versions/{v}', async () => {
      const want = {
        name: 'half_plus_two',
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
      };
      for (const url of [`${v2}/models/half_plus_two`, `${v2}/models/half_plus_two/versions/1`]) {
        const r = await getJson(url);
        assert.equal(r.status, 200, url);
        assert.deepEqual(r.body, want, url);
      }
      const md = await getJson(`${v2}/models/identity_dtypes`);
      assert.deepEqual(
        md.body?.inputs,
        SAMPLES.map((s) => ({ name: `in_${s.dtype}`, datatype: s.kserve, shape: [-1, 2] })),
      );
      const missing = await getJson(`${v2}/models/half_plus_two/versions/2`);
      assert.equal(missing.status, 404);
      assert.match(String(missing.body?.error), /half_plus_two/);
      const bad = await getJson(`${v2}/models/half_plus_two/versions/x`);
      assert.equal(bad.status, 400);
      assert.match(String(bad.body?.error), /'x' is not a version number/);
    });

    it('model ready, with and without /versions/{v}', async () => {
      for (const url of [`${v2}/models/half_plus_two/ready`, `${v2}/models/half_plus_two/versions/1/ready`]) {
        const r = await getJson(url);
        assert.deepEqual([r.status, r.body], [200, { ready: true }], url);
      }
      const notReady = await getJson(`${v2}/models/half_plus_two/versions/7/ready`);
      assert.deepEqual([notReady.status, notReady.body], [400, { ready: false }]);
      const unknown = await getJson(`${v2}/models/nope/ready`);
      assert.deepEqual(unknown.body, { ready: false });
    });

    it('REST and gRPC report the same KServe metadata for a TF.js model', async () => {
      const rest = await getJson(`${v2}/models/half_plus_two_tfjs`);
      assert.equal(rest.status, 200);
      type Ctor = new (
        a: string,
        c: grpc.ChannelCredentials,
      ) => grpc.Client & { ModelMetadata: (r: object, cb: (e: Error | null, r: Json) => void) => void };
      const KServe = (loadProtos().grpcObject.inference as unknown as { GRPCInferenceService: Ctor })
        .GRPCInferenceService;
      const client = new KServe(ts.grpcAddress, grpc.credentials.createInsecure());
      let viaGrpc: Json;
      try {
        viaGrpc = await new Promise((resolve, reject) =>
          client.ModelMetadata({ name: 'half_plus_two_tfjs' }, (e, r) => (e ? reject(e) : resolve(r))),
        );
      } finally {
        client.close();
      }
      // gRPC int64 dims arrive as strings; compare them as numbers.
      const numeric = (tensors: unknown) =>
        (tensors as { name: string; datatype: string; shape: string[] }[]).map((t) => ({
          ...t,
          shape: t.shape.map(Number),
        }));
      assert.deepEqual(
        { ...viaGrpc, inputs: numeric(viaGrpc.inputs), outputs: numeric(viaGrpc.outputs) },
        rest.body,
      );
      assert.equal(rest.body?.platform, 'tensorflowjs');
      assert.deepEqual(rest.body?.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1] }]);
    });
  });

  describe('/infer with JSON tensors', () => {
    it('half_plus_two: flat data, request id echoed, outputs with shape and datatype', async () => {
      const r = await postJson(`${v2}/models/half_plus_two/infer`, {
        id: 'req-1',
        inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2, 5] }],
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, {
        model_name: 'half_plus_two',
        model_version: '1',
        id: 'req-1',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [3], data: [2.5, 3, 4.5] }],
      });
    });

    it('every JSON datatype through identity_no_fp16, flat data', async () => {
      const r = await postJson(`${v2}/models/identity_no_fp16/infer`, {
        inputs: NO_FP16.map((s) => ({
          name: `in_${s.dtype}`,
          shape: [2, 2],
          datatype: s.kserve,
          data: jsonValues(s),
        })),
      });
      assert.equal(r.status, 200, r.text);
      const outputs = r.body?.outputs as OutputJson[];
      assert.deepEqual(outputs.map((o) => o.name).sort(), NO_FP16.map((s) => `out_${s.dtype}`).sort());
      for (const s of NO_FP16) {
        const o = outputs.find((x) => x.name === `out_${s.dtype}`)!;
        assert.equal(o.datatype, s.kserve);
        assert.deepEqual(o.shape, [2, 2], s.kserve);
        assertJsonData(s, o.data);
      }
    });

    it('nested data is read row-major; requested outputs come back in request order', async () => {
      const picked = NO_FP16.filter((s) => ['int8', 'string', 'float64'].includes(s.dtype));
      const r = await postJson(`${v2}/models/identity_no_fp16/infer`, {
        inputs: NO_FP16.map((s) => {
          const v = jsonValues(s);
          return {
            name: `in_${s.dtype}`,
            shape: [2, 2],
            datatype: s.kserve,
            data: [v.slice(0, 2), v.slice(2)],
          };
        }),
        outputs: picked.map((s) => ({ name: `out_${s.dtype}` })),
      });
      assert.equal(r.status, 200, r.text);
      const outputs = r.body?.outputs as OutputJson[];
      assert.deepEqual(
        outputs.map((o) => o.name),
        picked.map((s) => `out_${s.dtype}`),
      );
      picked.forEach((s, i) => {
        assertJsonData(s, outputs[i].data);
      });
    });

    it('refuses malformed JSON requests with 400 naming the input', async () => {
      const infer = (body: unknown) => postJson(`${v2}/models/half_plus_two/infer`, body);
      const cases: [unknown, RegExp][] = [
        [
          { inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2] }] },
          /Input 'x': 'data' has 2 elements but shape \[3\] needs 3/,
        ],
        [
          { inputs: [{ name: 'x', shape: [1], datatype: 'FP16', data: [1] }] },
          /Input 'x': FP16 data is only accepted through the binary tensor extension/,
        ],
        [
          { inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [1] }] },
          /Input 'x' of model 'half_plus_two' must be float32, got int32/,
        ],
        [{ inputs: [] }, /Missing input 'x' for model 'half_plus_two'/],
      ];
      for (const [body, pattern] of cases) {
        const r = await infer(body);
        assert.equal(r.status, 400, r.text);
        assert.match(String(r.body?.error), pattern);
      }
    });

    it('unknown model → 404 {"error": ...}', async () => {
      const r = await postJson(`${v2}/models/nope/infer`, {
        inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }],
      });
      assert.equal(r.status, 404);
      assert.deepEqual(Object.keys(r.body ?? {}), ['error']);
      assert.match(String(r.body?.error), /nope/);
      const md = await getJson(`${v2}/models/nope`);
      assert.equal(md.status, 404);
      assert.match(String(md.body?.error), /nope/);
    });
  });

  describe('/infer with the binary tensor extension', () => {
    const allBinaryInputs = (samples: readonly Sample[]) =>
      samples.map((s) => ({
        name: `in_${s.dtype}`,
        shape: [2, 2],
        datatype: s.kserve,
        parameters: { binary_data_size: rawOf(s).byteLength },
      }));

    it('every datatype (FP16 included) in and out as binary with binary_data_output', async () => {
      const { body, headerLength } = binaryBody(
        { inputs: allBinaryInputs(SAMPLES), parameters: { binary_data_output: true } },
        SAMPLES.map(rawOf),
      );
      const r = await postBinary(`${v2}/models/identity_dtypes/infer`, body, headerLength);
      assert.equal(r.status, 200, r.body.toString());
      assert.match(r.contentType, /application\/octet-stream/);
      const { header, raw } = splitBinaryResponse(r.body, r.headerLength);
      assert.equal(header.model_name, 'identity_dtypes');
      assert.equal(header.outputs.length, SAMPLES.length);
      for (const s of SAMPLES) {
        const o = header.outputs.find((x) => x.name === `out_${s.dtype}`)!;
        assert.equal(o.datatype, s.kserve);
        assert.deepEqual(o.shape, [2, 2]);
        assert.equal(o.data, undefined, `${s.kserve} has no JSON data`);
        assert.deepEqual(valuesOfRaw(s, raw.get(o.name)!), expected(s), s.kserve);
      }
    });

    it('per-output parameters.binary_data picks binary and JSON outputs', async () => {
      const fp16 = SAMPLES.find((s) => s.dtype === 'float16')!;
      const bytes = SAMPLES.find((s) => s.dtype === 'string')!;
      const int32 = SAMPLES.find((s) => s.dtype === 'int32')!;
      const { body, headerLength } = binaryBody(
        {
          inputs: allBinaryInputs(SAMPLES),
          outputs: [
            { name: 'out_float16', parameters: { binary_data: true } },
            { name: 'out_int32', parameters: { binary_data: false } },
            { name: 'out_string', parameters: { binary_data: true } },
          ],
        },
        SAMPLES.map(rawOf),
      );
      const r = await postBinary(`${v2}/models/identity_dtypes/infer`, body, headerLength);
      assert.equal(r.status, 200, r.body.toString());
      const { header, raw } = splitBinaryResponse(r.body, r.headerLength);
      assert.deepEqual(
        header.outputs.map((o) => o.name),
        ['out_float16', 'out_int32', 'out_string'],
      );
      assert.deepEqual(header.outputs[1].data, expected(int32));
      assert.equal(header.outputs[1].parameters?.binary_data_size, undefined);
      assert.deepEqual(valuesOfRaw(fp16, raw.get('out_float16')!), expected(fp16));
      assert.deepEqual(valuesOfRaw(bytes, raw.get('out_string')!), expected(bytes));
    });

    it('binary inputs with JSON outputs (no binary output asked for)', async () => {
      const { body, headerLength } = binaryBody({ inputs: allBinaryInputs(NO_FP16) }, NO_FP16.map(rawOf));
      const r = await postBinary(`${v2}/models/identity_no_fp16/infer`, body, headerLength);
      assert.equal(r.status, 200, r.body.toString());
      assert.match(r.contentType, /application\/json/);
      const outputs = (JSON.parse(r.body.toString()) as { outputs: OutputJson[] }).outputs;
      for (const s of NO_FP16) {
        const o = outputs.find((x) => x.name === `out_${s.dtype}`)!;
        assert.equal(o.datatype, s.kserve);
        assert.deepEqual(o.shape, [2, 2]);
        // 64-bit integers are written exactly, beyond 2^53: checked on the text below.
        if (s.dtype === 'int64' || s.dtype === 'uint64') continue;
        const got = s.dtype === 'float32' ? o.data?.map((x) => Math.fround(x as number)) : o.data;
        assert.deepEqual(got, expected(s), s.kserve);
      }
      const text = r.body.toString();
      assert.match(text, /"data":\[-9223372036854775808,9223372036854775807,5,-6\]/);
      assert.match(text, /"data":\[0,18446744073709551615,10,1\]/);
    });

    it('half_plus_two: binary FP32 input, binary output', async () => {
      const x = Buffer.from(new Float32Array([1, 2, 5]).buffer);
      const { body, headerLength } = binaryBody(
        {
          inputs: [{ name: 'x', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 12 } }],
          outputs: [{ name: 'y', parameters: { binary_data: true } }],
        },
        [x],
      );
      const r = await postBinary(`${v2}/models/half_plus_two/infer`, body, headerLength);
      assert.equal(r.status, 200);
      const { header, raw } = splitBinaryResponse(r.body, r.headerLength);
      assert.deepEqual(header.outputs, [
        { name: 'y', datatype: 'FP32', shape: [3], parameters: { binary_data: true, binary_data_size: 12 } },
      ]);
      const y = raw.get('y')!;
      assert.deepEqual([y.readFloatLE(0), y.readFloatLE(4), y.readFloatLE(8)], [2.5, 3, 4.5]);
    });

    it('refuses a header length outside [0, body] and raw size or count mismatches with 400', async () => {
      const url = `${v2}/models/half_plus_two/infer`;
      const x3 = Buffer.from(new Float32Array([1, 2, 3]).buffer);
      const input = (size: number, shape = [3]) => ({
        inputs: [{ name: 'x', shape, datatype: 'FP32', parameters: { binary_data_size: size } }],
      });
      const ok = binaryBody(input(12), [x3]);
      const cases: [Buffer, string | number, RegExp][] = [
        [
          ok.body,
          ok.body.byteLength + 1,
          new RegExp(
            `Inference-Header-Content-Length must be an integer in \\[0, ${ok.body.byteLength}\\] \\(the body length\\), got '${ok.body.byteLength + 1}'`,
          ),
        ],
        [ok.body, '-1', /Inference-Header-Content-Length must be an integer in \[0, \d+\].*got '-1'/],
        [ok.body, 'abc', /Inference-Header-Content-Length must be an integer/],
        // Header length cuts the JSON short.
        [ok.body, ok.headerLength - 1, /JSON|json|Unexpected|parse/i],
      ];
      const short = binaryBody(input(8), [x3.subarray(0, 8)]);
      cases.push([
        short.body,
        short.headerLength,
        /Input 'x': binary_data_size 8 does not match shape \[3\]/,
      ]);
      const past = binaryBody(input(16), [x3]);
      cases.push([past.body, past.headerLength, /Input 'x': binary_data_size 16 runs past the end/]);
      const extra = binaryBody(input(12), [x3, Buffer.alloc(4)]);
      cases.push([extra.body, extra.headerLength, /4 bytes of binary data that no input claims/]);
      const bytes = binaryBody(
        {
          inputs: [{ name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: 6 } }],
        },
        [Buffer.from([1, 0, 0, 0, 97, 9])],
      );
      cases.push([bytes.body, bytes.headerLength, /Input 's': the BYTES data ends inside element 1 of 2/]);
      for (const [body, len, pattern] of cases) {
        const r = await postBinary(url, body, len);
        const text = r.body.toString();
        assert.equal(r.status, 400, `${len}: ${text}`);
        assert.match((JSON.parse(text) as { error: string }).error, pattern);
      }
    });
  });

  describe('statistics and the repository extension', () => {
    it('/v2/models/{m}/stats counts move with requests', async () => {
      type Stats = {
        model_stats: {
          name: string;
          version: string;
          inference_count: number;
          inference_stats: { success: { count: number }; fail: { count: number } };
        }[];
      };
      const read = async (url: string) => {
        const r = await getJson(url);
        assert.equal(r.status, 200, r.text);
        return (r.body as unknown as Stats).model_stats;
      };
      const before = await read(`${v2}/models/half_plus_two/stats`);
      const success0 = before.reduce((n, s) => n + s.inference_stats.success.count, 0);
      const rows0 = before.reduce((n, s) => n + s.inference_count, 0);
      const fail0 = before.reduce((n, s) => n + s.inference_stats.fail.count, 0);
      for (const data of [
        [1, 2],
        [3, 4, 5],
      ]) {
        const r = await postJson(`${v2}/models/half_plus_two/infer`, {
          inputs: [{ name: 'x', shape: [data.length], datatype: 'FP32', data }],
        });
        assert.equal(r.status, 200);
      }
      const failed = await postJson(`${v2}/models/half_plus_two/infer`, {
        inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [1] }],
      });
      assert.equal(failed.status, 400);
      const afterAll = await read(`${v2}/models/half_plus_two/stats`);
      assert.deepEqual(
        afterAll.map((s) => [s.name, s.version]),
        [['half_plus_two', '1']],
      );
      assert.equal(afterAll[0].inference_stats.success.count - success0, 2);
      assert.equal(afterAll[0].inference_count - rows0, 5);
      assert.equal(afterAll[0].inference_stats.fail.count - fail0, 1);
      const v1 = await read(`${v2}/models/half_plus_two/versions/1/stats`);
      assert.equal(v1[0].inference_stats.success.count, afterAll[0].inference_stats.success.count);
      const unknown = await getJson(`${v2}/models/nope/stats`);
      assert.equal(unknown.status, 404);
    });

    it('repository index, unload and load round trip', async () => {
      const index = async () => {
        const r = await postJson(`${v2}/repository/index`, {});
        assert.equal(r.status, 200, r.text);
        return JSON.parse(r.text) as { name: string; version?: string; state: string; reason: string }[];
      };
      const row = async (name: string) => (await index()).filter((e) => e.name === name);
      assert.deepEqual(await row('half_plus_two'), [
        { name: 'half_plus_two', version: '1', state: 'READY', reason: '' },
      ]);
      assert.deepEqual((await index()).map((e) => e.name).sort(), [
        'half_plus_two',
        'half_plus_two_tfjs',
        'identity_dtypes',
        'identity_no_fp16',
      ]);
      const infer = () =>
        postJson(`${v2}/models/half_plus_two/infer`, {
          inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [4] }],
        });

      const unload = await postJson(`${v2}/repository/models/half_plus_two/unload`, {});
      assert.deepEqual([unload.status, unload.body], [200, {}]);
      assert.deepEqual(await row('half_plus_two'), [
        { name: 'half_plus_two', state: 'UNAVAILABLE', reason: 'unloaded' },
      ]);
      assert.equal((await infer()).status, 404);
      assert.deepEqual((await getJson(`${v2}/models/half_plus_two/ready`)).body, { ready: false });

      const load = await postJson(`${v2}/repository/models/half_plus_two/load`, {});
      assert.deepEqual([load.status, load.body], [200, {}]);
      assert.deepEqual(await row('half_plus_two'), [
        { name: 'half_plus_two', version: '1', state: 'READY', reason: '' },
      ]);
      const again = await infer();
      assert.equal(again.status, 200);
      assert.deepEqual((again.body as { outputs: OutputJson[] }).outputs[0].data, [4]);

      const unknown = await postJson(`${v2}/repository/models/nope/load`, {});
      assert.equal(unknown.status, 404);
      assert.match(String(unknown.body?.error), /nope/);
    });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import {
  type Build,
  bytes,
  type Fields,
  fields,
  intOf,
  mapEntry,
  message,
  packed,
  str,
  sub,
  subOf,
  textOf,
  unaryBytes,
  varint,
} from '../fixtures/proto-wire.js';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * A client that does not use the project's .proto files at all.
 *
 * Why: issue 4's done-when asks that a client generated from TF Serving's own published
 * .proto files get correct answers. Those files cannot be obtained here (no npm package
 * carries them, pip and GitHub are unreachable, and copying upstream text into the project
 * is not allowed). Tests built on protos/ would only show that the server agrees with
 * itself: a wrong field number in protos/ would be wrong on both ends and go unnoticed.
 * So this test encodes requests byte by byte with protobufjs's low-level Writer, sends them
 * with grpc-js `makeUnaryRequest` on TF Serving's and KServe's method paths, and decodes
 * the answers with the Reader by field number. The field numbers and enum values come only
 * from /work/shared/reference/protocols.md (§2, §5), which records the upstream numbers.
 * It is the closest independent check available; it does not replace a run against
 * generated upstream stubs.
 */

// ---- Wire helpers beyond test/fixtures/proto-wire.ts -------------------------------------

const bytesOf = (m: Fields, field: number): Uint8Array => {
  const v = m.get(field)?.at(-1);
  if (v === undefined) return new Uint8Array(0);
  assert.ok(v instanceof Uint8Array, `field ${field} is not length-delimited`);
  return v;
};
/** A repeated int64 field, packed or not. */
function int64List(m: Fields, field: number): bigint[] {
  const out: bigint[] = [];
  for (const v of m.get(field) ?? []) {
    if (typeof v === 'bigint') {
      out.push(BigInt.asIntN(64, v));
      continue;
    }
    const r = protobuf.Reader.create(v);
    while (r.pos < r.len) out.push(BigInt(r.int64().toString()));
  }
  return out;
}
/** A `map<string, Message>` field as key → decoded value. */
function mapOf(m: Fields, field: number): Map<string, Fields> {
  const out = new Map<string, Fields>();
  for (const entry of m.get(field) ?? []) {
    assert.ok(entry instanceof Uint8Array);
    const e = fields(entry);
    out.set(textOf(e, 1), subOf(e, 2));
  }
  return out;
}
const floatsOf = (b: Uint8Array) => {
  const buf = Buffer.from(b);
  return Array.from({ length: buf.byteLength / 4 }, (_, i) => buf.readFloatLE(i * 4));
};

// ---- Field numbers and enum values from protocols.md -------------------------------------

const DT_FLOAT = 1;
const AVAILABLE = 30;

/** tensorflow.TensorShapeProto { repeated Dim dim = 2 }, Dim { int64 size = 1 }. */
const shapeOf = (field: number, dims: number[]): Build =>
  sub(field, ...dims.map((d) => sub(2, varint(1, d))));

/** tensorflow.serving.ModelSpec { name = 1; Int64Value version = 2; signature_name = 3 }. */
const modelSpec = (name: string, version?: number): Build =>
  sub(1, str(1, name), ...(version === undefined ? [] : [sub(2, varint(1, version))]));

/** tensorflow.TensorProto: dtype = 1, tensor_shape = 2, tensor_content = 4, float_val = 5 (packed). */
function floatTensor(values: number[], how: 'tensor_content' | 'float_val'): Uint8Array {
  const data =
    how === 'tensor_content'
      ? bytes(4, Buffer.from(new Float32Array(values).buffer))
      : packed(5, (w) => {
          for (const v of values) w.float(v);
        });
  return message(varint(1, DT_FLOAT), shapeOf(2, [values.length]), data);
}

describe('TF Serving and KServe gRPC without the project protos', () => {
  let ts: TestServer;
  let client: grpc.Client;

  before(async () => {
    ts = await startTestServer({
      server: { rest_api_port: -1 },
      models: [{ name: 'half_plus_two', base_path: 'models/half_plus_two' }],
    });
    client = new grpc.Client(ts.grpcAddress, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await ts?.close();
  });

  for (const how of ['tensor_content', 'float_val'] as const) {
    it(`Predict on half_plus_two with ${how}: y = [2.5, 3.0, 4.5]`, async () => {
      // PredictRequest { model_spec = 1; map<string, TensorProto> inputs = 2; output_filter = 3 }
      const req = message(
        modelSpec('half_plus_two'),
        mapEntry(2, 'x', floatTensor([1, 2, 5], how)),
        str(3, 'y'),
      );
      const res = fields(await unaryBytes(client, '/tensorflow.serving.PredictionService/Predict', req));
      // PredictResponse { map<string, TensorProto> outputs = 1; model_spec = 2 }
      const outputs = mapOf(res, 1);
      assert.deepEqual([...outputs.keys()], ['y']);
      const y = outputs.get('y')!;
      assert.equal(intOf(y, 1), BigInt(DT_FLOAT));
      const dims = (subOf(y, 2).get(2) ?? []).map((d) => intOf(fields(d as Uint8Array), 1));
      assert.deepEqual(dims, [3n]);
      assert.deepEqual(floatsOf(bytesOf(y, 4)), [2.5, 3, 4.5]);
      const spec = subOf(res, 2);
      assert.equal(textOf(spec, 1), 'half_plus_two');
      assert.equal(intOf(subOf(spec, 2), 1), 1n);
      assert.equal(textOf(spec, 3), 'serving_default');
    });
  }

  it('GetModelStatus: version 1 is AVAILABLE (30) with an OK status', async () => {
    // GetModelStatusRequest { model_spec = 1 }
    const req = message(modelSpec('half_plus_two'));
    const res = fields(await unaryBytes(client, '/tensorflow.serving.ModelService/GetModelStatus', req));
    // GetModelStatusResponse { repeated ModelVersionStatus model_version_status = 1 }
    const statuses = (res.get(1) ?? []).map((s) => fields(s as Uint8Array));
    assert.equal(statuses.length, 1);
    // ModelVersionStatus { int64 version = 1; State state = 2; StatusProto status = 3 }
    assert.equal(intOf(statuses[0], 1), 1n);
    assert.equal(intOf(statuses[0], 2), BigInt(AVAILABLE));
    // StatusProto { error_code = 1 (OK = 0, the default); error_message = 2 }
    const status = subOf(statuses[0], 3);
    assert.equal(intOf(status, 1), 0n);
    assert.equal(textOf(status, 2), '');
  });

  it('GetModelStatus on an unknown model is NOT_FOUND', async () => {
    const err = (await unaryBytes(
      client,
      '/tensorflow.serving.ModelService/GetModelStatus',
      message(modelSpec('nope')),
    ).then(
      () => assert.fail('expected NOT_FOUND'),
      (e: unknown) => e,
    )) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.NOT_FOUND);
  });

  it('GetModelMetadata: a SignatureDefMap in Any, input x DT_FLOAT [-1]', async () => {
    // GetModelMetadataRequest { model_spec = 1; repeated string metadata_field = 2 }
    const req = message(modelSpec('half_plus_two'), str(2, 'signature_def'));
    const res = fields(
      await unaryBytes(client, '/tensorflow.serving.PredictionService/GetModelMetadata', req),
    );
    // GetModelMetadataResponse { model_spec = 1; map<string, google.protobuf.Any> metadata = 2 }
    assert.equal(textOf(subOf(res, 1), 1), 'half_plus_two');
    const metadata = mapOf(res, 2);
    assert.deepEqual([...metadata.keys()], ['signature_def']);
    // google.protobuf.Any { type_url = 1; value = 2 }
    const any = metadata.get('signature_def')!;
    assert.equal(textOf(any, 1), 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    // SignatureDefMap { map<string, SignatureDef> signature_def = 1 }
    const defs = mapOf(fields(bytesOf(any, 2)), 1);
    const sig = defs.get('serving_default');
    assert.ok(sig, `signatures: ${[...defs.keys()].join()}`);
    // SignatureDef { map<string, TensorInfo> inputs = 1; outputs = 2; string method_name = 3 }
    assert.equal(textOf(sig, 3), 'tensorflow/serving/predict');
    for (const [field, name] of [
      [1, 'x'],
      [2, 'y'],
    ] as const) {
      const infos = mapOf(sig, field);
      assert.deepEqual([...infos.keys()], [name]);
      // TensorInfo { string name = 1; DataType dtype = 2; TensorShapeProto tensor_shape = 3 }
      const info = infos.get(name)!;
      assert.equal(textOf(info, 1), name);
      assert.equal(intOf(info, 2), BigInt(DT_FLOAT));
      const dims = (subOf(info, 3).get(2) ?? []).map((d) => intOf(fields(d as Uint8Array), 1));
      assert.deepEqual(dims, [-1n]);
    }
  });

  for (const how of ['contents', 'raw_input_contents'] as const) {
    it(`KServe ModelInfer on half_plus_two with ${how}: the same [2.5, 3.0, 4.5]`, async () => {
      // InferInputTensor { name = 1; datatype = 2; repeated int64 shape = 3; contents = 5 }
      // InferTensorContents { fp32_contents = 6 (packed) }
      const x = Buffer.from(new Float32Array([1, 2, 5]).buffer);
      const input = sub(
        5,
        str(1, 'x'),
        str(2, 'FP32'),
        packed(3, (w) => w.int64(3)),
        ...(how === 'contents'
          ? [
              sub(
                5,
                packed(6, (w) => {
                  for (const v of [1, 2, 5]) w.float(v);
                }),
              ),
            ]
          : []),
      );
      // ModelInferRequest { model_name = 1; model_version = 2; id = 3; inputs = 5; raw_input_contents = 7 }
      const req = message(
        str(1, 'half_plus_two'),
        str(3, 'req-7'),
        input,
        ...(how === 'contents' ? [] : [bytes(7, x)]),
      );
      const res = fields(await unaryBytes(client, '/inference.GRPCInferenceService/ModelInfer', req));
      // ModelInferResponse { model_name = 1; model_version = 2; id = 3; outputs = 5; raw_output_contents = 6 }
      assert.equal(textOf(res, 1), 'half_plus_two');
      assert.equal(textOf(res, 2), '1');
      assert.equal(textOf(res, 3), 'req-7');
      const outputs = (res.get(5) ?? []).map((o) => fields(o as Uint8Array));
      assert.equal(outputs.length, 1);
      // InferOutputTensor { name = 1; datatype = 2; repeated int64 shape = 3 }
      assert.equal(textOf(outputs[0], 1), 'y');
      assert.equal(textOf(outputs[0], 2), 'FP32');
      assert.deepEqual(int64List(outputs[0], 3), [3n]);
      const raw = res.get(6) ?? [];
      assert.equal(raw.length, 1);
      assert.deepEqual(floatsOf(raw[0] as Uint8Array), [2.5, 3, 4.5]);
    });
  }

  it('KServe ModelMetadata: name, versions, platform and tensors by field number', async () => {
    // ModelMetadataRequest { name = 1; version = 2 }
    const res = fields(
      await unaryBytes(
        client,
        '/inference.GRPCInferenceService/ModelMetadata',
        message(str(1, 'half_plus_two')),
      ),
    );
    // ModelMetadataResponse { name = 1; repeated versions = 2; platform = 3; inputs = 4; outputs = 5 }
    assert.equal(textOf(res, 1), 'half_plus_two');
    assert.deepEqual(
      (res.get(2) ?? []).map((v) => Buffer.from(v as Uint8Array).toString()),
      ['1'],
    );
    assert.equal(textOf(res, 3), 'onnxruntime_onnx');
    // TensorMetadata { name = 1; datatype = 2; repeated int64 shape = 3 }
    const input = subOf(res, 4);
    assert.deepEqual([textOf(input, 1), textOf(input, 2), int64List(input, 3)], ['x', 'FP32', [-1n]]);
  });
});

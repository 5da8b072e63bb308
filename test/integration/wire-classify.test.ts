import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { HALF_PLUS_TWO_SIGNATURES, POINT_SIGNATURES } from '../fixtures/example-signatures.js';
import {
  type Build,
  bytes,
  type Fields,
  fields,
  floatOf,
  intOf,
  mapEntry,
  message,
  packed,
  str,
  sub,
  subOf,
  subsOf,
  textOf,
  unaryBytes,
  varint,
} from '../fixtures/proto-wire.js';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * Classify, Regress and MultiInference with requests built from field numbers, without the
 * project's protos (see wire-independent.test.ts for why). Every number below comes from
 * /work/shared/reference/protocols.md §2 and §8.
 */

const SERVICE = '/tensorflow.serving.PredictionService';

// tensorflow.Feature { bytes_list = 1; float_list = 2; int64_list = 3 }; the lists' value = 1 (packed).
const floatFeature = (values: number[]) =>
  message(
    sub(
      2,
      packed(1, (w) => {
        for (const v of values) w.float(v);
      }),
    ),
  );
const int64Feature = (values: number[]) =>
  message(
    sub(
      3,
      packed(1, (w) => {
        for (const v of values) w.int64(v);
      }),
    ),
  );
const bytesFeature = (values: string[]) => message(sub(1, ...values.map((v) => str(1, v))));

/** tensorflow.Example { Features features = 1 }, Features { map<string, Feature> feature = 1 }. */
const example = (features: Record<string, Uint8Array>): Uint8Array =>
  message(sub(1, ...Object.entries(features).map(([k, f]) => mapEntry(1, k, f))));

/** Input { ExampleList example_list = 1 } with ExampleList { repeated Example examples = 1 }. */
const exampleList = (...examples: Uint8Array[]): Build => sub(2, sub(1, ...examples.map((e) => bytes(1, e))));
/** Input { ExampleListWithContext example_list_with_context = 2 { examples = 1; context = 2 } }. */
const withContext = (context: Uint8Array, ...examples: Uint8Array[]): Build =>
  sub(2, sub(2, ...examples.map((e) => bytes(1, e)), bytes(2, context)));

/** ModelSpec { name = 1; Int64Value version = 2; signature_name = 3; version_label = 4 }. */
const spec = (field: number, name: string, signature: string, version?: number): Build =>
  sub(field, str(1, name), ...(version === undefined ? [] : [sub(2, varint(1, version))]), str(3, signature));

/** ClassificationResult { classifications = 1 { classes = 1 { label = 1; score = 2 } } }. */
function classificationsOf(result: Fields): [string, number][][] {
  return subsOf(result, 1).map((c) => subsOf(c, 1).map((k) => [textOf(k, 1), floatOf(k, 2)]));
}
/** RegressionResult { regressions = 1 { value = 1 } }. */
function regressionsOf(result: Fields): number[] {
  return subsOf(result, 1).map((r) => floatOf(r, 1));
}

describe('Classify, Regress and MultiInference without the project protos', () => {
  let ts: TestServer;
  let client: grpc.Client;
  const call = async (method: string, ...parts: Build[]) =>
    fields(await unaryBytes(client, `${SERVICE}/${method}`, message(...parts)));

  before(async () => {
    ts = await startTestServer({
      server: { rest_api_port: -1 },
      models: [
        { name: 'half_plus_two', base_path: 'models/half_plus_two', signatures: HALF_PLUS_TWO_SIGNATURES },
        { name: 'point_classifier', base_path: 'models/point_classifier', signatures: POINT_SIGNATURES },
      ],
    });
    client = new grpc.Client(ts.grpcAddress, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await ts?.close();
  });

  it('Regress on half_plus_two: y = x/2 + 2, with the response model_spec (field 2)', async () => {
    // RegressionRequest { model_spec = 1; input = 2 }; RegressionResponse { result = 1; model_spec = 2 }
    const res = await call(
      'Regress',
      spec(1, 'half_plus_two', 'regress_x_to_y', 1),
      exampleList(example({ x: floatFeature([2]) }), example({ x: floatFeature([-4]) })),
    );
    assert.deepEqual(regressionsOf(subOf(res, 1)), [3, 0]);
    const ms = subOf(res, 2);
    assert.equal(textOf(ms, 1), 'half_plus_two');
    assert.equal(intOf(subOf(ms, 2), 1), 1n);
    assert.equal(textOf(ms, 3), 'regress_x_to_y');
  });

  it('Classify on half_plus_two with a context: one class, empty label, score 3', async () => {
    const res = await call(
      'Classify',
      spec(1, 'half_plus_two', 'classify_x_to_y'),
      withContext(example({ x: floatFeature([2]) }), example({})),
    );
    assert.deepEqual(classificationsOf(subOf(res, 1)), [[['', 3]]]);
  });

  it('Classify on point_classifier: labels from the labels file, nearest centre on top', async () => {
    const res = await call(
      'Classify',
      spec(1, 'point_classifier', 'classify'),
      exampleList(example({ point: floatFeature([0, 3]) }), example({ point: floatFeature([-3, -1]) })),
    );
    const result = classificationsOf(subOf(res, 1));
    assert.equal(result.length, 2);
    for (const classes of result) {
      assert.deepEqual(
        classes.map(([l]) => l),
        ['north', 'south_west', 'south_east'],
      );
    }
    assert.ok(result[0][0][1] > 0.99, `north scored ${result[0][0][1]}`);
    assert.ok(result[1][1][1] > 0.99, `south_west scored ${result[1][1][1]}`);
  });

  it('MultiInference: results = 1 { model_spec = 1; classification_result = 2 | regression_result = 3 }', async () => {
    // MultiInferenceRequest { tasks = 1 { model_spec = 1; method_name = 2 }; input = 2 }
    const res = await call(
      'MultiInference',
      sub(1, spec(1, 'half_plus_two', 'classify_x_to_y'), str(2, 'tensorflow/serving/classify')),
      sub(1, spec(1, 'half_plus_two', 'regress_x_to_y'), str(2, 'tensorflow/serving/regress')),
      exampleList(example({ x: floatFeature([6]) })),
    );
    const results = subsOf(res, 1);
    assert.equal(results.length, 2);
    assert.equal(textOf(subOf(results[0], 1), 3), 'classify_x_to_y');
    assert.deepEqual(classificationsOf(subOf(results[0], 2)), [[['', 5]]]);
    assert.equal(results[0].has(3), false);
    assert.equal(textOf(subOf(results[1], 1), 3), 'regress_x_to_y');
    assert.deepEqual(regressionsOf(subOf(results[1], 3)), [5]);
  });

  const x = (v: Uint8Array) => example({ x: v });
  const cases: [string, string, Build[], RegExp][] = [
    [
      'a missing feature',
      'Regress',
      [spec(1, 'half_plus_two', 'regress_x_to_y'), exampleList(example({}))],
      /feature 'x'/,
    ],
    [
      'an int64_list feature for a float input',
      'Regress',
      [spec(1, 'half_plus_two', 'regress_x_to_y'), exampleList(x(int64Feature([2])))],
      /Feature 'x'.*int64_list.*float_list/,
    ],
    [
      'a bytes_list feature for a float input',
      'Classify',
      [spec(1, 'point_classifier', 'classify'), exampleList(example({ point: bytesFeature(['a', 'b']) }))],
      /Feature 'point'.*bytes_list.*float_list/,
    ],
    [
      'a feature in both the context and an example',
      'Regress',
      [spec(1, 'half_plus_two', 'regress_x_to_y'), withContext(x(floatFeature([1])), x(floatFeature([1])))],
      /Feature 'x' appears in both/,
    ],
    [
      'ragged feature lengths',
      'Classify',
      [
        spec(1, 'point_classifier', 'classify'),
        exampleList(example({ point: floatFeature([1, 2]) }), example({ point: floatFeature([1, 2, 3]) })),
      ],
      /Feature 'point' has ragged lengths/,
    ],
    [
      'an unknown signature',
      'Regress',
      [spec(1, 'half_plus_two', 'no_such_signature'), exampleList(x(floatFeature([1])))],
      /Signature 'no_such_signature' not found/,
    ],
    [
      'Classify on a regress signature',
      'Classify',
      [spec(1, 'half_plus_two', 'regress_x_to_y'), exampleList(x(floatFeature([1])))],
      /Signature 'regress_x_to_y' is a regress signature/,
    ],
    [
      'Regress on a classify signature',
      'Regress',
      [spec(1, 'point_classifier', 'classify'), exampleList(example({ point: floatFeature([1, 2]) }))],
      /Signature 'classify' is a classify signature/,
    ],
    [
      'MultiInference tasks naming different models',
      'MultiInference',
      [
        sub(1, spec(1, 'half_plus_two', 'regress_x_to_y'), str(2, 'tensorflow/serving/regress')),
        sub(1, spec(1, 'point_classifier', 'classify'), str(2, 'tensorflow/serving/classify')),
        exampleList(x(floatFeature([1]))),
      ],
      /same model: task 0 names 'half_plus_two', task 1 'point_classifier'/,
    ],
    [
      'MultiInference naming the same signature twice',
      'MultiInference',
      [
        sub(1, spec(1, 'half_plus_two', 'regress_x_to_y'), str(2, 'tensorflow/serving/regress')),
        sub(1, spec(1, 'half_plus_two', 'regress_x_to_y'), str(2, 'tensorflow/serving/regress')),
        exampleList(x(floatFeature([1]))),
      ],
      /signature 'regress_x_to_y' more than once/,
    ],
    [
      'an empty example list',
      'Classify',
      [spec(1, 'point_classifier', 'classify'), exampleList()],
      /Signature 'classify': the request has no examples/,
    ],
  ];
  for (const [what, method, parts, pattern] of cases) {
    it(`INVALID_ARGUMENT (3) for ${what}`, async () => {
      const err = (await call(method, ...parts).then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      )) as grpc.ServiceError;
      assert.equal(err.code, 3, `got ${err.code}: ${err.details}`);
      assert.match(err.details, pattern);
    });
  }
});

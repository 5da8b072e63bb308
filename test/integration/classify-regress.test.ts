import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { HALF_PLUS_TWO_SIGNATURES, POINT_SIGNATURES } from '../fixtures/example-signatures.js';
import { type GrpcClient, grpcCall, grpcClient, grpcError } from '../fixtures/grpc-client.js';
import { getJson, postJson, startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * TF Serving's Classify / Regress / MultiInference on the example models, over REST and
 * gRPC (the project's protos; wire-classify.test.ts checks the field numbers independently).
 * The signatures are declared in the config, as config/server.yaml declares them.
 */

/** A gRPC tf.Example with float features. */
function floatExample(features: Record<string, number[]>) {
  const feature: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(features)) feature[k] = { float_list: { value: v } };
  return { features: { feature } };
}

describe('Classify, Regress and MultiInference', () => {
  let ts: TestServer;
  let client: GrpcClient;

  before(async () => {
    ts = await startTestServer({
      models: [
        {
          name: 'half_plus_two',
          base_path: 'models/half_plus_two',
          version_labels: { stable: 1 },
          signatures: HALF_PLUS_TWO_SIGNATURES,
        },
        {
          name: 'half_plus_two_tfjs',
          base_path: 'models/half_plus_two_tfjs',
          signatures: HALF_PLUS_TWO_SIGNATURES,
        },
        { name: 'point_classifier', base_path: 'models/point_classifier', signatures: POINT_SIGNATURES },
      ],
    });
    client = grpcClient('tensorflow.serving.PredictionService', ts.grpcAddress);
  });
  after(async () => {
    client?.close();
    await ts?.close();
  });

  const rest = (model: string, method: string, body: unknown) =>
    postJson(`${ts.restUrl}/v1/models/${model}:${method}`, body);

  describe('REST', () => {
    for (const model of ['half_plus_two', 'half_plus_two_tfjs']) {
      it(`${model}: regress_x_to_y answers {"result":[3.0]}, classify_x_to_y {"result":[[["",3.0]]]}`, async () => {
        const r = await rest(model, 'regress', { signature_name: 'regress_x_to_y', examples: [{ x: 2.0 }] });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.text, '{"result":[3.0]}');
        const c = await rest(model, 'classify', {
          signature_name: 'classify_x_to_y',
          examples: [{ x: 2.0 }],
        });
        assert.equal(c.status, 200, c.text);
        assert.equal(c.text, '{"result":[[["",3.0]]]}');
      });
    }

    it('takes several examples, lists of one value, integers, and /versions/<v> and /labels/<l>', async () => {
      for (const path of ['half_plus_two', 'half_plus_two/versions/1', 'half_plus_two/labels/stable']) {
        const r = await rest(path, 'regress', {
          signature_name: 'regress_x_to_y',
          examples: [{ x: 1 }, { x: [2.0] }, { x: 5.0 }],
        });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, { result: [2.5, 3, 4.5] });
      }
    });

    it('merges the context into every example', async () => {
      const r = await rest('half_plus_two', 'regress', {
        signature_name: 'regress_x_to_y',
        context: { x: 4 },
        examples: [{}, { other: 'ignored' }],
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { result: [4, 4] });
    });

    it('point_classifier names the nearest centre with the labels file', async () => {
      const r = await rest('point_classifier', 'classify', {
        signature_name: 'classify',
        examples: [{ point: [0.1, 1.8] }, { point: [-2.5, -0.5] }, { point: [2.5, -1] }],
      });
      assert.equal(r.status, 200, r.text);
      const result = (r.body as { result: [string, number][][] }).result;
      assert.equal(result.length, 3);
      const top = result.map((classes) => {
        assert.deepEqual(
          classes.map(([label]) => label),
          ['north', 'south_west', 'south_east'],
        );
        const sum = classes.reduce((s, [, score]) => s + score, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `scores sum to ${sum}`);
        return classes.reduce((best, c) => (c[1] > best[1] ? c : best))[0];
      });
      assert.deepEqual(top, ['north', 'south_west', 'south_east']);
    });

    it('metadata lists the signatures with TF Serving method names', async () => {
      for (const [model, sigs] of [
        ['half_plus_two', { regress_x_to_y: 'regress', classify_x_to_y: 'classify' }],
        ['point_classifier', { classify: 'classify' }],
      ] as const) {
        const r = await getJson(`${ts.restUrl}/v1/models/${model}/metadata`);
        assert.equal(r.status, 200, r.text);
        const defs = (
          r.body as {
            metadata: {
              signature_def: { signature_def: Record<string, { method_name: string; outputs: object }> };
            };
          }
        ).metadata.signature_def.signature_def;
        assert.equal(defs.serving_default.method_name, 'tensorflow/serving/predict');
        for (const [name, method] of Object.entries(sigs)) {
          assert.equal(defs[name]?.method_name, `tensorflow/serving/${method}`, name);
        }
      }
      const r = await getJson(`${ts.restUrl}/v1/models/point_classifier/metadata`);
      const defs = (
        r.body as { metadata: { signature_def: { signature_def: Record<string, { outputs: object }> } } }
      ).metadata.signature_def.signature_def;
      assert.deepEqual(Object.keys(defs.classify.outputs).sort(), ['classes', 'scores']);
    });

    const errors: [string, string, unknown, RegExp][] = [
      [
        'a missing feature',
        'regress',
        { signature_name: 'regress_x_to_y', examples: [{ y: 1 }] },
        /feature 'x'/,
      ],
      [
        'a feature of the wrong kind',
        'regress',
        { signature_name: 'regress_x_to_y', examples: [{ x: 'two' }] },
        /Feature 'x'.*float_list/,
      ],
      [
        'a feature in both the context and an example',
        'regress',
        { signature_name: 'regress_x_to_y', context: { x: 1 }, examples: [{ x: 2 }] },
        /Feature 'x' appears in both the context and example 0/,
      ],
      [
        'an unknown signature',
        'regress',
        { signature_name: 'nope', examples: [{ x: 1 }] },
        /Signature 'nope' not found/,
      ],
      [
        'Classify on a regress signature',
        'classify',
        { signature_name: 'regress_x_to_y', examples: [{ x: 1 }] },
        /Signature 'regress_x_to_y' is a regress signature.*tensorflow\/serving\/classify/,
      ],
      [
        'Regress on the predict signature (no signature_name)',
        'regress',
        { examples: [{ x: 1 }] },
        /Signature 'serving_default' is a predict signature/,
      ],
      [
        'an empty example list',
        'regress',
        { signature_name: 'regress_x_to_y', examples: [] },
        /regress_x_to_y.*no examples/,
      ],
      ['no examples key', 'regress', { signature_name: 'regress_x_to_y' }, /Missing 'examples' key/],
    ];
    for (const [what, method, body, message] of errors) {
      it(`400 for ${what}`, async () => {
        const r = await rest('half_plus_two', method, body);
        assert.equal(r.status, 400, r.text);
        assert.match(String(r.body?.error), message);
      });
    }

    it('400 for ragged feature lengths and for a length the input cannot take', async () => {
      const ragged = await rest('point_classifier', 'classify', {
        signature_name: 'classify',
        examples: [{ point: [1, 2] }, { point: [1, 2, 3] }],
      });
      assert.equal(ragged.status, 400, ragged.text);
      assert.match(String(ragged.body?.error), /Feature 'point' has ragged lengths/);
      const wide = await rest('point_classifier', 'classify', {
        signature_name: 'classify',
        examples: [{ point: [1] }],
      });
      assert.equal(wide.status, 400, wide.text);
      assert.match(String(wide.body?.error), /Feature 'point' has 1 values per example/);
    });

    it('404 for an unknown model or version', async () => {
      const r = await rest('nosuch', 'regress', { signature_name: 'regress_x_to_y', examples: [{ x: 1 }] });
      assert.equal(r.status, 404, r.text);
      const v = await rest('half_plus_two/versions/7', 'regress', {
        signature_name: 'regress_x_to_y',
        examples: [{ x: 1 }],
      });
      assert.equal(v.status, 404, v.text);
    });
  });

  describe('gRPC', () => {
    const list = (...examples: object[]) => ({ example_list: { examples } });

    it('Regress and Classify on half_plus_two answer 3.0 and ("", 3.0), with the model spec', async () => {
      const r = await grpcCall<{
        result: { regressions: { value: number }[] };
        model_spec: { signature_name: string };
      }>(client, 'Regress', {
        model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
        input: list(floatExample({ x: [2] }), floatExample({ x: [5] })),
      });
      assert.deepEqual(r.result.regressions, [{ value: 3 }, { value: 4.5 }]);
      assert.equal(r.model_spec.signature_name, 'regress_x_to_y');
      const c = await grpcCall<{
        result: { classifications: { classes: { label?: string; score: number }[] }[] };
      }>(client, 'Classify', {
        model_spec: { name: 'half_plus_two_tfjs', signature_name: 'classify_x_to_y' },
        input: { example_list_with_context: { context: floatExample({ x: [2] }), examples: [{}] } },
      });
      assert.equal(c.result.classifications.length, 1);
      assert.deepEqual(
        c.result.classifications[0].classes.map((k) => [k.label ?? '', k.score]),
        [['', 3]],
      );
    });

    it('Classify on point_classifier gives three labelled classes per example', async () => {
      const c = await grpcCall<{
        result: { classifications: { classes: { label: string; score: number }[] }[] };
      }>(client, 'Classify', {
        model_spec: { name: 'point_classifier', signature_name: 'classify' },
        input: list(floatExample({ point: [2, -1] })),
      });
      const classes = c.result.classifications[0].classes;
      assert.deepEqual(
        classes.map((k) => k.label),
        ['north', 'south_west', 'south_east'],
      );
      assert.ok(classes[2].score > 0.99);
    });

    it('MultiInference runs both half_plus_two signatures on the same examples', async () => {
      const r = await grpcCall<{
        results: {
          model_spec: { signature_name: string };
          classification_result?: { classifications: { classes: { score: number }[] }[] };
          regression_result?: { regressions: { value: number }[] };
        }[];
      }>(client, 'MultiInference', {
        tasks: [
          {
            model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
            method_name: 'tensorflow/serving/regress',
          },
          {
            model_spec: { name: 'half_plus_two', signature_name: 'classify_x_to_y' },
            method_name: 'tensorflow/serving/classify',
          },
        ],
        input: list(floatExample({ x: [2] }), floatExample({ x: [4] })),
      });
      assert.deepEqual(
        r.results.map((x) => x.model_spec.signature_name),
        ['regress_x_to_y', 'classify_x_to_y'],
      );
      assert.deepEqual(r.results[0].regression_result?.regressions, [{ value: 3 }, { value: 4 }]);
      assert.deepEqual(
        r.results[1].classification_result?.classifications.map((c) => c.classes.map((k) => k.score)),
        [[3], [4]],
      );
    });

    const task = (name: string, signature: string, method: string) => ({
      model_spec: { name, signature_name: signature },
      method_name: `tensorflow/serving/${method}`,
    });
    const grpcErrors: [string, string, object, RegExp][] = [
      [
        'a missing feature',
        'Regress',
        {
          model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
          input: list(floatExample({ z: [1] })),
        },
        /feature 'x'/,
      ],
      [
        'a feature of the wrong kind',
        'Regress',
        {
          model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
          input: list({ features: { feature: { x: { int64_list: { value: ['2'] } } } } }),
        },
        /Feature 'x' in example 0 is a int64_list.*float_list/,
      ],
      [
        'a feature in both the context and an example',
        'Regress',
        {
          model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
          input: {
            example_list_with_context: {
              context: floatExample({ x: [1] }),
              examples: [floatExample({ x: [2] })],
            },
          },
        },
        /Feature 'x' appears in both the context and example 0/,
      ],
      [
        'ragged feature lengths',
        'Classify',
        {
          model_spec: { name: 'point_classifier', signature_name: 'classify' },
          input: list(floatExample({ point: [1, 2] }), floatExample({ point: [1] })),
        },
        /Feature 'point' has ragged lengths/,
      ],
      [
        'an unknown signature',
        'Classify',
        {
          model_spec: { name: 'half_plus_two', signature_name: 'nope' },
          input: list(floatExample({ x: [1] })),
        },
        /Signature 'nope' not found/,
      ],
      [
        'Classify on a regress signature',
        'Classify',
        {
          model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
          input: list(floatExample({ x: [1] })),
        },
        /Signature 'regress_x_to_y' is a regress signature/,
      ],
      [
        'MultiInference tasks naming different models',
        'MultiInference',
        {
          tasks: [
            task('half_plus_two', 'regress_x_to_y', 'regress'),
            task('half_plus_two_tfjs', 'classify_x_to_y', 'classify'),
          ],
          input: list(floatExample({ x: [1] })),
        },
        /same model: task 0 names 'half_plus_two', task 1 'half_plus_two_tfjs'/,
      ],
      [
        'MultiInference naming the same signature twice',
        'MultiInference',
        {
          tasks: [
            task('half_plus_two', 'regress_x_to_y', 'regress'),
            task('half_plus_two', 'regress_x_to_y', 'regress'),
          ],
          input: list(floatExample({ x: [1] })),
        },
        /signature 'regress_x_to_y' more than once/,
      ],
      [
        'an empty example list',
        'Regress',
        { model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' }, input: list() },
        /regress_x_to_y.*no examples/,
      ],
      [
        'an input with no kind',
        'Regress',
        { model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' }, input: {} },
        /Input is empty/,
      ],
    ];
    for (const [what, method, request, message] of grpcErrors) {
      it(`INVALID_ARGUMENT for ${what}`, async () => {
        const err = await grpcError(grpcCall(client, method, request), grpc.status.INVALID_ARGUMENT);
        assert.match(err.details, message);
      });
    }

    it('GetModelMetadata lists the declared signatures', async () => {
      const r = await grpcCall<{
        metadata: { signature_def: { value: Buffer } };
      }>(client, 'GetModelMetadata', {
        model_spec: { name: 'half_plus_two' },
        metadata_field: ['signature_def'],
      });
      const text = r.metadata.signature_def.value.toString('latin1');
      for (const s of [
        'regress_x_to_y',
        'classify_x_to_y',
        'tensorflow/serving/regress',
        'tensorflow/serving/classify',
      ]) {
        assert.ok(text.includes(s), `${s} missing`);
      }
    });
  });
});

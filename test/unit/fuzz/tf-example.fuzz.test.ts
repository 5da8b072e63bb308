import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseJsonBody } from '../../../src/main/codecs/json-body.js';
import { decodeInputObject, type InputObject, mergeContext } from '../../../src/main/codecs/tf-example.js';
import { decodeExampleRequestJson } from '../../../src/main/codecs/tfs-example-json.js';
import { bytes, decodesOrRefuses, fuzzParams, grpcMethod, jsonishText, mutated } from './fuzz-support.js';

const feature = fc.oneof(
  fc.record({ float_list: fc.record({ value: fc.array(fc.float(), { maxLength: 4 }) }) }),
  fc.record({ int64_list: fc.record({ value: fc.array(fc.bigInt().map(String), { maxLength: 4 }) }) }),
  fc.record({
    bytes_list: fc.record({ value: fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: 4 }) }),
  }),
  fc.constant({}),
);
const example = fc.record({
  features: fc.record({ feature: fc.dictionary(fc.constantFrom('x', 'y', 'z'), feature) }),
});
const input = fc.oneof(
  fc.record({ example_list: fc.record({ examples: fc.array(example, { maxLength: 3 }) }) }),
  fc.record({
    example_list_with_context: fc.record({ examples: fc.array(example, { maxLength: 3 }), context: example }),
  }),
  fc.constant({}),
);

describe('codec fuzzing: tf.Example inputs decode or refuse with a client error', () => {
  it('REST :classify / :regress bodies', () => {
    const value = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.string({ maxLength: 4 }),
      fc.record({ b64: fc.string() }),
    );
    const body = fc.oneof(
      fc.record(
        {
          signature_name: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
          examples: fc.oneof(
            fc.array(
              fc.dictionary(
                fc.constantFrom('x', 'y'),
                fc.oneof(value, fc.array(fc.oneof(value, fc.array(value)))),
              ),
            ),
            fc.anything({ maxDepth: 3 }),
          ),
          context: fc.anything({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      ),
      fc.anything({ maxDepth: 4 }),
    );
    fc.assert(
      fc.property(fc.oneof(body, jsonishText), (b) =>
        decodesOrRefuses(() => {
          const parsed =
            typeof b === 'string' ? parseJsonBody(b, { maxDepth: 16 }, { exactNumbers: true }) : b;
          mergeContext(decodeExampleRequestJson(parsed).input);
        }),
      ),
      fuzzParams(1500),
    );
  });

  it('gRPC ClassificationRequest wire bytes, mutated after serialization', () => {
    const classify = grpcMethod('tensorflow.serving.PredictionService', 'Classify');
    const wire = input.chain((i) =>
      mutated(classify.requestSerialize({ model_spec: { name: 'm' }, input: i })),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          wire,
          bytes.map((u) => Buffer.from(u)),
        ),
        (b) => {
          let req: { input?: InputObject } | undefined;
          try {
            req = classify.requestDeserialize(b) as typeof req;
          } catch {}
          if (req) decodesOrRefuses(() => mergeContext(decodeInputObject(req.input)));
        },
      ),
      fuzzParams(1500),
    );
  });
});

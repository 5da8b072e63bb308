import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DTYPES, type DType } from '../../../src/core/dtype.js';
import type { Signature, TensorSpec } from '../../../src/core/signature.js';
import { parseJsonBody, readJsonBody } from '../../../src/main/codecs/json-body.js';
import { decodeInferBinaryRequest } from '../../../src/main/codecs/kserve-binary.js';
import { KSERVE_DATATYPES } from '../../../src/main/codecs/kserve-dtype.js';
import { decodeInferRequest } from '../../../src/main/codecs/kserve-json.js';
import { decodeFastPredict, parseFastPredictBody } from '../../../src/main/codecs/tfs-fast-predict.js';
import { decodePredictRequest } from '../../../src/main/codecs/tfs-predict-request.js';
import { bytes, decodesOrRefuses, fuzzParams, jsonishText } from './fuzz-support.js';

const LIMITS = { maxDepth: 16 };
const MAX_ELEMENTS = 10_000;

const dtype = fc.constantFrom<DType>(...DTYPES);
const spec = (name: string): fc.Arbitrary<TensorSpec> =>
  fc.record({
    name: fc.constant(name),
    dtype,
    shape: fc.oneof(
      fc.constant(null),
      fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 4 })), { maxLength: 3 }),
    ),
  });
const signature: fc.Arbitrary<Signature> = fc
  .array(fc.constantFrom('x', 'y', 'in_string', 'b64'), { minLength: 1, maxLength: 3 })
  .chain((names) => fc.tuple(...[...new Set(names)].map(spec)))
  .chain((inputs) =>
    fc.record({
      inputs: fc.constant(inputs),
      outputs: fc.constant([{ name: 'out', dtype: 'float32' as DType, shape: [-1] }]),
      batched: fc.boolean(),
      methodName: fc.constant('tensorflow/serving/predict'),
    }),
  );

/** A value that looks like tensor data: nested lists of numbers, strings, bools and b64 objects. */
const leaf = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.string({ maxLength: 6 }),
  fc.record({ b64: fc.oneof(fc.base64String({ maxLength: 12 }), fc.string({ maxLength: 6 })) }),
  fc.constant(null),
);
const nested = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 })),
})).value;
const tfsBody = fc.oneof(
  fc.record({ instances: fc.array(fc.oneof(nested, fc.dictionary(fc.constantFrom('x', 'y', 'z'), nested))) }),
  fc.record({ inputs: fc.oneof(nested, fc.dictionary(fc.constantFrom('x', 'y', 'in_string'), nested)) }),
  fc.record(
    { instances: nested, inputs: nested, signature_name: fc.oneof(fc.string(), fc.integer()) },
    { requiredKeys: [] },
  ),
  fc.anything({ maxDepth: 4 }),
);

const shape = fc.array(
  fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constant(2 ** 53), fc.double(), fc.string({ maxLength: 3 })),
  { maxLength: 4 },
);
const v2Input = fc.record(
  {
    name: fc.oneof(fc.constantFrom('x', 'y'), fc.string({ maxLength: 4 }), fc.integer()),
    datatype: fc.oneof(
      fc.constantFrom(...KSERVE_DATATYPES),
      fc.constantFrom('FP8', 'fp32', ''),
      fc.integer(),
    ),
    shape,
    data: nested,
    parameters: fc.oneof(
      fc.record(
        { binary_data_size: fc.oneof(fc.nat({ max: 64 }), fc.integer(), fc.string()) },
        { requiredKeys: [] },
      ),
      fc.anything({ maxDepth: 2 }),
    ),
  },
  { requiredKeys: [] },
);
const v2Body = fc.oneof(
  fc.record(
    {
      id: fc.oneof(fc.string(), fc.integer()),
      inputs: fc.oneof(fc.array(v2Input, { maxLength: 3 }), fc.anything({ maxDepth: 2 })),
      outputs: fc.oneof(
        fc.array(fc.record({ name: fc.string({ maxLength: 3 }), parameters: fc.anything({ maxDepth: 2 }) })),
        fc.anything({ maxDepth: 2 }),
      ),
      parameters: fc.anything({ maxDepth: 2 }),
    },
    { requiredKeys: ['inputs'] },
  ),
  fc.anything({ maxDepth: 4 }),
);

describe('codec fuzzing: JSON bodies decode or refuse with a client error', () => {
  it('parseJsonBody and readJsonBody on arbitrary and damaged JSON text', () => {
    fc.assert(
      fc.property(jsonishText, fc.boolean(), (text, exact) => {
        decodesOrRefuses(() => parseJsonBody(text, LIMITS, { exactNumbers: exact }));
        decodesOrRefuses(() => readJsonBody(text, LIMITS).exact());
      }),
      fuzzParams(1000),
    );
  });

  it('TF Serving predict bodies (row and columnar) against arbitrary signatures', () => {
    fc.assert(
      fc.property(tfsBody, signature, (body, sig) => {
        decodesOrRefuses(() => decodePredictRequest(body, sig, { maxElements: MAX_ELEMENTS }));
      }),
      fuzzParams(),
    );
  });

  it('the fast predict path on arbitrary bytes and numeric bodies', () => {
    const numericBody = fc
      .array(fc.oneof(fc.double(), fc.integer(), fc.array(fc.double(), { maxLength: 3 })), { maxLength: 8 })
      .map((v) => JSON.stringify({ instances: v }).replace(/null/g, 'NaN'));
    const text = fc.oneof(
      numericBody,
      jsonishText,
      fc.stringMatching(/^\{"instances":[[\]0-9.eE+\- ,]{0,80}\}$/),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          text.map((t) => new TextEncoder().encode(t)),
          bytes,
        ),
        signature,
        (body, sig) => {
          decodesOrRefuses(() => {
            const parsed = parseFastPredictBody(body, LIMITS.maxDepth);
            if (parsed !== undefined) decodeFastPredict(parsed, sig, MAX_ELEMENTS);
          });
        },
      ),
      fuzzParams(1000),
    );
  });

  it('KServe v2 JSON infer bodies', () => {
    fc.assert(
      fc.property(v2Body, (body) => {
        decodesOrRefuses(() => decodeInferRequest(body, { maxElements: MAX_ELEMENTS }));
      }),
      fuzzParams(),
    );
  });

  it('KServe v2 binary bodies: arbitrary header lengths and trailing bytes', () => {
    const header = v2Body.map((b) => JSON.stringify(b) ?? '');
    fc.assert(
      fc.property(
        header,
        bytes,
        fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 4096 }), fc.string({ maxLength: 12 })),
        (json, tail, declared) => {
          const head = new TextEncoder().encode(json);
          const body = new Uint8Array(head.length + tail.length);
          body.set(head);
          body.set(tail, head.length);
          const length = declared === undefined ? head.length : declared;
          decodesOrRefuses(() =>
            decodeInferBinaryRequest(body, length, { maxElements: MAX_ELEMENTS, maxDepth: LIMITS.maxDepth }),
          );
        },
      ),
      fuzzParams(),
    );
  });
});

import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodePredictionLog, encodePredictLog } from '../../../src/main/lifecycle/warmup/prediction-log.js';
import { encodeTfRecords, readTfRecords } from '../../../src/main/lifecycle/warmup/tfrecord.js';
import { bytes, decodesOrRefuses, fuzzParams, mutated } from './fuzz-support.js';

const OPTS = { maxRecords: 8, what: 'warmup file tf_serving_warmup_requests' };

/** A valid warmup file of a few Predict logs, then byte edits, cuts and appended junk. */
const damagedFile = fc
  .array(fc.record({ name: fc.string({ maxLength: 8 }), values: fc.array(fc.float(), { maxLength: 6 }) }), {
    maxLength: 10,
  })
  .map((logs) =>
    encodeTfRecords(
      logs.map((l) =>
        encodePredictLog({
          model_spec: { name: l.name },
          inputs: {
            x: {
              dtype: 'DT_FLOAT',
              tensor_shape: { dim: [{ size: String(l.values.length) }] },
              float_val: l.values,
            },
          },
        }),
      ),
    ),
  )
  .chain((file) =>
    fc
      .tuple(mutated(file), fc.nat(), bytes)
      .map(([copy, cut, junk]) =>
        Buffer.concat([copy.subarray(0, copy.length === 0 ? 0 : cut % (copy.length + 1)), junk]),
      ),
  );

describe('codec fuzzing: warmup files (TFRecord of PredictionLog) read or refuse with a client error', () => {
  it('TFRecord framing and each record as a PredictionLog', () => {
    fc.assert(
      fc.property(fc.oneof(damagedFile, bytes), (file) => {
        decodesOrRefuses(() => {
          const records = readTfRecords(file, OPTS);
          records.forEach((r, i) => {
            decodePredictionLog(r, `record ${i}`);
          });
        });
      }),
      fuzzParams(1500),
    );
  });

  it('PredictionLog bytes: arbitrary and mutated valid logs', () => {
    const valid = encodePredictLog({
      model_spec: { name: 'm' },
      inputs: { x: { dtype: 'DT_FLOAT', float_val: [1] } },
    });
    fc.assert(
      fc.property(fc.oneof(mutated(valid), bytes), (b) =>
        decodesOrRefuses(() => decodePredictionLog(b, 'record 0')),
      ),
      fuzzParams(1500),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../../src/core/errors.js';
import { crc32c, maskCrc, maskedCrc32c } from '../../../../src/main/lifecycle/warmup/crc32c.js';
import {
  decodePredictionLog,
  encodePredictionLog,
  encodePredictLog,
} from '../../../../src/main/lifecycle/warmup/prediction-log.js';
import { encodeTfRecords, readTfRecords } from '../../../../src/main/lifecycle/warmup/tfrecord.js';

const OPTS = { maxRecords: 1000, what: 'warmup file f' };

function isBadInput(err: unknown): boolean {
  return err instanceof ServingError && err.code === 'INVALID_ARGUMENT' && err.httpStatus === 400;
}

describe('crc32c', () => {
  it('matches the published check values', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  });

  it('masks as TFRecord does: rotate right 15, add 0xa282ead8', () => {
    assert.equal(maskCrc(0), 0xa282ead8);
    const crc = 0x12345678;
    assert.equal(maskCrc(crc), ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32);
    assert.equal(maskedCrc32c(Buffer.from('123456789')), maskCrc(0xe3069283));
  });
});

describe('TFRecord reader', () => {
  const records = [Buffer.from('first'), Buffer.alloc(0), Buffer.from('x'.repeat(300))];
  const file = encodeTfRecords(records);

  it('round-trips records, the empty one included', () => {
    assert.equal(
      file.length,
      records.reduce((n, r) => n + 16 + r.length, 0),
    );
    const back = readTfRecords(file, OPTS);
    assert.deepEqual(
      back.map((r) => Buffer.from(r).toString()),
      records.map((r) => r.toString()),
    );
    assert.deepEqual(readTfRecords(new Uint8Array(0), OPTS), []);
  });

  it('writes the layout of the format: u64 length, masked CRC of it, data, masked CRC of data', () => {
    assert.equal(file.readBigUInt64LE(0), 5n);
    assert.equal(file.readUInt32LE(8), maskedCrc32c(file.subarray(0, 8)));
    assert.equal(file.subarray(12, 17).toString(), 'first');
    assert.equal(file.readUInt32LE(17), maskedCrc32c(Buffer.from('first')));
  });

  it('a bad data CRC names the file and the record index', () => {
    const broken = Buffer.from(file);
    broken[21 + 16 + 12 + 5] ^= 0xff; // records 0 and 1 take 21 and 16 bytes: this is record 2's data
    assert.throws(
      () => readTfRecords(broken, OPTS),
      (e: unknown) =>
        isBadInput(e) && /warmup file f: record 2: data CRC mismatch/.test((e as Error).message),
    );
  });

  it('a bad length CRC, a truncated header and a length past the end are corrupt', () => {
    const lengthCrc = Buffer.from(file);
    lengthCrc[8] ^= 1;
    assert.throws(() => readTfRecords(lengthCrc, OPTS), /record 0: length CRC mismatch/);
    assert.throws(
      () => readTfRecords(file.subarray(0, file.length - 3), OPTS),
      /record 2: truncated header|record 2: length/,
    );
    const long = encodeTfRecords([Buffer.from('abc')]);
    long.writeUInt32LE(1000, 0);
    long.writeUInt32LE(maskedCrc32c(long.subarray(0, 8)), 8);
    assert.throws(() => readTfRecords(long, OPTS), /record 0: length 1000 runs past the end/);
    const huge = encodeTfRecords([Buffer.from('abc')]);
    huge.writeUInt32LE(1, 4);
    huge.writeUInt32LE(maskedCrc32c(huge.subarray(0, 8)), 8);
    assert.throws(() => readTfRecords(huge, OPTS), /record 0: length 4294967299 runs past the end/);
  });

  it('more than maxRecords records fails, naming the limit', () => {
    const many = encodeTfRecords(Array.from({ length: 4 }, () => Buffer.from('r')));
    assert.equal(readTfRecords(many, { ...OPTS, maxRecords: 4 }).length, 4);
    assert.throws(
      () => readTfRecords(many, { ...OPTS, maxRecords: 3 }),
      (e: unknown) => isBadInput(e) && /more than 3 records \(record 3/.test((e as Error).message),
    );
  });

  it('every truncation and every single-byte flip throws a 400 ServingError or reads fewer/equal records', () => {
    for (let cut = 0; cut < file.length; cut++) {
      try {
        readTfRecords(file.subarray(0, cut), OPTS);
        assert.ok([0, 21, 37].includes(cut), `a cut at ${cut} must fail`);
      } catch (e) {
        assert.ok(isBadInput(e), `cut ${cut}: ${e}`);
      }
    }
    for (let i = 0; i < file.length; i++) {
      const flipped = Buffer.from(file);
      flipped[i] ^= 0x5a;
      assert.throws(() => readTfRecords(flipped, OPTS), isBadInput, `flip at ${i}`);
    }
  });
});

describe('PredictionLog', () => {
  it('decodes a predict_log with its request', () => {
    const bytes = encodePredictLog({
      model_spec: { name: 'm' },
      inputs: {
        x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '2' }] }, float_val: [1, 2] },
      },
    });
    const log = decodePredictionLog(bytes, 'r');
    assert.equal(log.kind, 'predict_log');
    assert.equal(log.kind === 'predict_log' && log.request?.inputs?.x.dtype, 'DT_FLOAT');
  });

  it('names the kind of other logs', () => {
    for (const kind of ['classify_log', 'regress_log', 'multi_inference_log', 'session_run_log'])
      assert.equal(decodePredictionLog(encodePredictionLog({ [kind]: {} }), 'r').kind, kind);
  });

  it('garbage and an empty log are INVALID_ARGUMENT naming the record', () => {
    assert.throws(
      () => decodePredictionLog(Buffer.from([0xff, 0xff, 0xff]), 'file f: record 7'),
      (e: unknown) => isBadInput(e) && /file f: record 7: not a PredictionLog/.test((e as Error).message),
    );
    assert.throws(
      () => decodePredictionLog(new Uint8Array(0), 'record 0'),
      /record 0: the PredictionLog holds no log/,
    );
  });
});

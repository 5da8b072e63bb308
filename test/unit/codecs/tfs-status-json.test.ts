import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelMetadataResult } from '../../../src/core/model-metadata.js';
import {
  dtypeOfTf,
  tfDataTypeName,
  tfDataTypeNameOf,
  tfDataTypeNumber,
} from '../../../src/main/codecs/tf-dtype.js';
import { encodeMetadataJson, encodeStatusJson } from '../../../src/main/codecs/tfs-status-json.js';

describe('encodeStatusJson', () => {
  it('writes versions as strings in descending order', () => {
    const text = encodeStatusJson([
      { version: 1, state: 'END', errorCode: 'UNKNOWN', errorMessage: 'bad model' },
      { version: 123, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' },
    ]);
    assert.equal(
      text,
      '{"model_version_status":[' +
        '{"version":"123","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}},' +
        '{"version":"1","state":"END","status":{"error_code":"UNKNOWN","error_message":"bad model"}}]}',
    );
  });
});

describe('encodeMetadataJson', () => {
  it('writes the signature def map with TensorInfo in proto3 JSON', () => {
    const meta: ModelMetadataResult = {
      model: 'm',
      version: 123,
      platform: 'onnx',
      signatureName: 'serving_default',
      availableVersions: [123],
      signature: {
        inputs: [
          { name: 'x', dtype: 'float32', shape: [-1, 3] },
          { name: 'k:1', dtype: 'string', shape: null },
        ],
        outputs: [{ name: 'y', dtype: 'int64', shape: [-1] }],
        batched: true,
        methodName: 'tensorflow/serving/predict',
      },
    };
    assert.deepEqual(JSON.parse(encodeMetadataJson(meta)), {
      model_spec: { name: 'm', signature_name: '', version: '123' },
      metadata: {
        signature_def: {
          signature_def: {
            serving_default: {
              inputs: {
                x: {
                  dtype: 'DT_FLOAT',
                  tensor_shape: {
                    dim: [
                      { size: '-1', name: '' },
                      { size: '3', name: '' },
                    ],
                    unknown_rank: false,
                  },
                  name: 'x:0',
                },
                'k:1': { dtype: 'DT_STRING', tensor_shape: { dim: [], unknown_rank: true }, name: 'k:1' },
              },
              outputs: {
                y: {
                  dtype: 'DT_INT64',
                  tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false },
                  name: 'y:0',
                },
              },
              method_name: 'tensorflow/serving/predict',
            },
          },
        },
      },
    });
  });
});

describe('tf-dtype', () => {
  it('maps DTypes to DT_* names and numbers both ways', () => {
    assert.equal(tfDataTypeName('float32'), 'DT_FLOAT');
    assert.equal(tfDataTypeNumber('float32'), 1);
    assert.equal(tfDataTypeNumber('float16'), 19);
    assert.equal(tfDataTypeNumber('uint64'), 23);
    assert.equal(tfDataTypeNumber('string'), 7);
    assert.equal(dtypeOfTf(9), 'int64');
    assert.equal(dtypeOfTf('DT_UINT16'), 'uint16');
    assert.equal(dtypeOfTf(14), undefined);
    assert.equal(dtypeOfTf('DT_COMPLEX64'), undefined);
    assert.equal(tfDataTypeNameOf(21), 'DT_VARIANT');
    assert.equal(tfDataTypeNameOf(99), undefined);
  });
});

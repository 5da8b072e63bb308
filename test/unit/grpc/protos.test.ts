import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { findProtoDir } from '../../../src/main/codecs/proto-dir.js';
import { loadProtos, PROTO_FILES } from '../../../src/main/grpc/grpc-protos.js';

// Field numbers from docs (protocols.md §2, §5, §6): stock clients depend on every one.
const FIELDS: Record<string, Record<string, number>> = {
  'tensorflow.TensorProto': {
    dtype: 1,
    tensor_shape: 2,
    version_number: 3,
    tensor_content: 4,
    float_val: 5,
    double_val: 6,
    int_val: 7,
    string_val: 8,
    scomplex_val: 9,
    int64_val: 10,
    bool_val: 11,
    dcomplex_val: 12,
    half_val: 13,
    resource_handle_val: 14,
    variant_val: 15,
    uint32_val: 16,
    uint64_val: 17,
  },
  'tensorflow.TensorShapeProto': { dim: 2, unknown_rank: 3 },
  'tensorflow.TensorShapeProto.Dim': { size: 1, name: 2 },
  'tensorflow.serving.ModelSpec': { name: 1, version: 2, version_label: 4, signature_name: 3 },
  'tensorflow.serving.PredictRequest': { model_spec: 1, inputs: 2, output_filter: 3 },
  'tensorflow.serving.PredictResponse': { outputs: 1, model_spec: 2 },
  'tensorflow.serving.GetModelStatusRequest': { model_spec: 1 },
  'tensorflow.serving.GetModelStatusResponse': { model_version_status: 1 },
  'tensorflow.serving.ModelVersionStatus': { version: 1, state: 2, status: 3 },
  'tensorflow.serving.StatusProto': { error_code: 1, error_message: 2 },
  'tensorflow.serving.GetModelMetadataRequest': { model_spec: 1, metadata_field: 2 },
  'tensorflow.serving.GetModelMetadataResponse': { model_spec: 1, metadata: 2 },
  'tensorflow.serving.SignatureDefMap': { signature_def: 1 },
  'tensorflow.SignatureDef': { inputs: 1, outputs: 2, method_name: 3 },
  'tensorflow.TensorInfo': { name: 1, dtype: 2, tensor_shape: 3 },
  'tensorflow.serving.ReloadConfigRequest': { config: 1, metric_names: 2 },
  'tensorflow.serving.ReloadConfigResponse': { status: 1 },
  'tensorflow.serving.ModelServerConfig': { model_config_list: 1, custom_model_config: 2 },
  'tensorflow.serving.ModelConfigList': { config: 1 },
  'tensorflow.serving.ModelConfig': {
    name: 1,
    base_path: 2,
    model_platform: 4,
    model_version_policy: 7,
    version_labels: 8,
  },
  'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy': {
    latest: 100,
    all: 101,
    specific: 102,
  },
  'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest': { num_versions: 1 },
  'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific': { versions: 1 },
  'inference.ModelInferRequest': {
    model_name: 1,
    model_version: 2,
    id: 3,
    parameters: 4,
    inputs: 5,
    outputs: 6,
    raw_input_contents: 7,
  },
  'inference.ModelInferRequest.InferInputTensor': {
    name: 1,
    datatype: 2,
    shape: 3,
    parameters: 4,
    contents: 5,
  },
  'inference.ModelInferRequest.InferRequestedOutputTensor': { name: 1, parameters: 2 },
  'inference.ModelInferResponse': {
    model_name: 1,
    model_version: 2,
    id: 3,
    parameters: 4,
    outputs: 5,
    raw_output_contents: 6,
  },
  'inference.ModelInferResponse.InferOutputTensor': {
    name: 1,
    datatype: 2,
    shape: 3,
    parameters: 4,
    contents: 5,
  },
  'inference.InferTensorContents': {
    bool_contents: 1,
    int_contents: 2,
    int64_contents: 3,
    uint_contents: 4,
    uint64_contents: 5,
    fp32_contents: 6,
    fp64_contents: 7,
    bytes_contents: 8,
  },
  'inference.InferParameter': {
    bool_param: 1,
    int64_param: 2,
    string_param: 3,
    double_param: 4,
    uint64_param: 5,
  },
  'inference.ModelReadyRequest': { name: 1, version: 2 },
  'inference.ServerMetadataResponse': { name: 1, version: 2, extensions: 3 },
  'inference.ModelMetadataRequest': { name: 1, version: 2 },
  'inference.ModelMetadataResponse': { name: 1, versions: 2, platform: 3, inputs: 4, outputs: 5 },
  'inference.ModelMetadataResponse.TensorMetadata': { name: 1, datatype: 2, shape: 3 },
  'grpc.health.v1.HealthCheckRequest': { service: 1 },
  'grpc.health.v1.HealthCheckResponse': { status: 1 },
};

const ENUMS: Record<string, Record<string, number>> = {
  'tensorflow.DataType': {
    DT_INVALID: 0,
    DT_FLOAT: 1,
    DT_DOUBLE: 2,
    DT_INT32: 3,
    DT_UINT8: 4,
    DT_INT16: 5,
    DT_INT8: 6,
    DT_STRING: 7,
    DT_COMPLEX64: 8,
    DT_INT64: 9,
    DT_BOOL: 10,
    DT_QINT8: 11,
    DT_QUINT8: 12,
    DT_QINT32: 13,
    DT_BFLOAT16: 14,
    DT_QINT16: 15,
    DT_QUINT16: 16,
    DT_UINT16: 17,
    DT_COMPLEX128: 18,
    DT_HALF: 19,
    DT_RESOURCE: 20,
    DT_VARIANT: 21,
    DT_UINT32: 22,
    DT_UINT64: 23,
  },
  'tensorflow.serving.ModelVersionStatus.State': {
    UNKNOWN: 0,
    START: 10,
    LOADING: 20,
    AVAILABLE: 30,
    UNLOADING: 40,
    END: 50,
  },
  'tensorflow.error.Code': {
    OK: 0,
    INVALID_ARGUMENT: 3,
    NOT_FOUND: 5,
    UNIMPLEMENTED: 12,
    UNAUTHENTICATED: 16,
  },
  'grpc.health.v1.HealthCheckResponse.ServingStatus': {
    UNKNOWN: 0,
    SERVING: 1,
    NOT_SERVING: 2,
    SERVICE_UNKNOWN: 3,
  },
};

function loadRoot(): protobuf.Root {
  const dir = findProtoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  root.loadSync([...PROTO_FILES, 'tensorflow_serving/apis/model_management.proto'], { keepCase: true });
  return root;
}

describe('protos', () => {
  const root = loadRoot();

  for (const [type, fields] of Object.entries(FIELDS)) {
    it(`${type} has the published field numbers`, () => {
      const t = root.lookupType(type);
      for (const [name, id] of Object.entries(fields))
        assert.equal(t.fields[name]?.id, id, `${type}.${name}`);
    });
  }

  for (const [e, values] of Object.entries(ENUMS)) {
    it(`${e} has the published values`, () => {
      const en = root.lookupEnum(e);
      for (const [name, id] of Object.entries(values)) assert.equal(en.values[name], id, `${e}.${name}`);
    });
  }

  it('ModelSpec version and version_label share the oneof version_choice', () => {
    const spec = root.lookupType('tensorflow.serving.ModelSpec');
    assert.deepEqual(spec.oneofs['version_choice'].oneof, ['version', 'version_label']);
    assert.equal(spec.fields['version'].type, 'google.protobuf.Int64Value');
  });

  it('serves the method paths stock clients call', () => {
    const def = loadProtos().packageDefinition;
    const paths = (service: string) =>
      Object.values(def[service] as Record<string, { path: string }>)
        .map((m) => m.path)
        .sort();
    assert.deepEqual(paths('tensorflow.serving.PredictionService'), [
      '/tensorflow.serving.PredictionService/Classify',
      '/tensorflow.serving.PredictionService/GetModelMetadata',
      '/tensorflow.serving.PredictionService/MultiInference',
      '/tensorflow.serving.PredictionService/Predict',
      '/tensorflow.serving.PredictionService/Regress',
    ]);
    assert.deepEqual(paths('tensorflow.serving.ModelService'), [
      '/tensorflow.serving.ModelService/GetModelStatus',
      '/tensorflow.serving.ModelService/HandleReloadConfigRequest',
    ]);
    assert.deepEqual(paths('inference.GRPCInferenceService'), [
      '/inference.GRPCInferenceService/ModelInfer',
      '/inference.GRPCInferenceService/ModelMetadata',
      '/inference.GRPCInferenceService/ModelReady',
      '/inference.GRPCInferenceService/ServerLive',
      '/inference.GRPCInferenceService/ServerMetadata',
      '/inference.GRPCInferenceService/ServerReady',
    ]);
    assert.deepEqual(paths('grpc.health.v1.Health'), [
      '/grpc.health.v1.Health/Check',
      '/grpc.health.v1.Health/Watch',
    ]);
  });
});

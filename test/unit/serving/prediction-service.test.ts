import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import type { Signature } from '../../../src/core/signature.js';
import type { TensorMap } from '../../../src/core/tensor.js';
import type { ServableHandle } from '../../../src/main/lifecycle/servable.js';
import { servingPlan } from '../../../src/main/lifecycle/serving-plan.js';
import { OPEN_LOOKUP } from '../../../src/main/serving/model-lookup.js';
import {
  PredictionService,
  type RequestQueue,
  type ServableSource,
} from '../../../src/main/serving/prediction-service.js';

const SIGNATURE: Signature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 2] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }],
  batched: true,
  methodName: 'tensorflow/serving/predict',
};

function servables(key: string): ServableSource {
  const handle: ServableHandle = {
    name: 'f',
    version: 1,
    platform: 'onnx',
    signature: SIGNATURE,
    plan: servingPlan('onnx', SIGNATURE),
    key,
    release: () => {},
  };
  return {
    acquire: () => handle,
    status: () => [],
    modelNames: () => ['f'],
    availableVersions: () => [1],
    isReady: () => true,
    isModelReady: () => true,
    setModels: async () => {},
    loadError: () => undefined,
  };
}

const INPUTS: TensorMap = { x: { dtype: 'float32', shape: [1, 2], data: Float32Array.of(1, 2) } };

/** A queue on a clock far from Date.now(), recording the deadline it is handed. */
class RecordingQueue implements RequestQueue {
  readonly clock = { now: () => 5_000 };
  deadlines: (number | undefined)[] = [];
  error: ServingError | undefined;

  async enqueue(_key: string, req: { inputs: TensorMap; deadline?: number }) {
    this.deadlines.push(req.deadline);
    if (this.error) throw this.error;
    return {
      outputs: { y: req.inputs.x },
      queueMicros: 0,
      batchSize: 1,
      timings: { computeInputMicros: 0, computeInferMicros: 0, computeOutputMicros: 0 },
    };
  }
}

describe('PredictionService', () => {
  it("converts an epoch deadline to the scheduler clock's scale when it enqueues", async (t) => {
    t.mock.method(Date, 'now', () => 1_700_000_000_000);
    const queue = new RecordingQueue();
    const service = new PredictionService({
      servables: servables('f/1#1'),
      queue,
      namespace: OPEN_LOOKUP,
      maxTensorElements: 1000,
    });
    const call = { model: 'f', selector: { kind: 'latest' as const }, inputs: INPUTS };
    await service.predict({ ...call, deadline: 1_700_000_000_250 });
    await service.predict(call);
    assert.deepEqual(queue.deadlines, [5_250, undefined]);
  });

  it("names the model as the caller did in the scheduler's errors", async () => {
    const queue = new RecordingQueue();
    queue.error = new ServingError('UNAVAILABLE', "Worker crashed while running model 'acme/f' version 1", {
      retryAfterSeconds: 1,
    });
    const service = new PredictionService({
      servables: servables('acme/f/1#1'),
      queue,
      namespace: { resolve: (_c, name) => `acme/${name}`, visibleModels: (_c, names) => [...names] },
      maxTensorElements: 1000,
    });
    await assert.rejects(service.predict({ model: 'f', selector: { kind: 'latest' }, inputs: INPUTS }), {
      code: 'UNAVAILABLE',
      message: "Worker crashed while running model 'f' version 1",
      retryAfterSeconds: 1,
    });
  });
});

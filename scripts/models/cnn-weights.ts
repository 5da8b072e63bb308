import { mulberry32, uniformFloat32 } from './prng.js';

/**
 * The example CNN, shared by its ONNX and TF.js builds so both compute the same function:
 * image [N,28,28,1] → conv 3x3×8 (valid, relu) → maxpool 2x2 → flatten (NHWC order)
 * → dense 10 → softmax.
 *
 * Weights are in Keras layouts: conv kernel [kh, kw, in, out], dense kernel [in, out].
 */
export const CNN = {
  height: 28,
  width: 28,
  channels: 1,
  kernel: 3,
  filters: 8,
  pool: 2,
  classes: 10,
  seed: 20240601,
} as const;

/** Spatial size after the valid conv and the pool: 26 → 13. */
export const CNN_POOLED = Math.floor((CNN.height - CNN.kernel + 1) / CNN.pool);
export const CNN_FLAT = CNN_POOLED * CNN_POOLED * CNN.filters;

export interface CnnWeights {
  readonly convKernel: Float32Array; // [3, 3, 1, 8]
  readonly convBias: Float32Array; // [8]
  readonly denseKernel: Float32Array; // [1352, 10]
  readonly denseBias: Float32Array; // [10]
}

export function cnnWeights(): CnnWeights {
  const random = mulberry32(CNN.seed);
  const fanIn = CNN.kernel * CNN.kernel * CNN.channels;
  return {
    convKernel: uniformFloat32(random, fanIn * CNN.filters, Math.sqrt(6 / fanIn)),
    convBias: uniformFloat32(random, CNN.filters, 0.1),
    denseKernel: uniformFloat32(random, CNN_FLAT * CNN.classes, Math.sqrt(6 / CNN_FLAT)),
    denseBias: uniformFloat32(random, CNN.classes, 0.1),
  };
}

/** Keras conv kernel [kh, kw, in, out] → ONNX Conv weight [out, in, kh, kw]. */
export function convKernelToOihw(k: Float32Array): Float32Array {
  const { kernel: kk, channels: ci, filters: co } = CNN;
  const out = new Float32Array(k.length);
  for (let h = 0; h < kk; h++)
    for (let w = 0; w < kk; w++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++)
          out[((o * ci + i) * kk + h) * kk + w] = k[((h * kk + w) * ci + i) * co + o];
  return out;
}

/**
 * The model formats the server knows, named as the YAML `platform` key and KServe metadata
 * name them. `tensorflow` is a SavedModel (needs tfjs-node). Config validates against this
 * list, the workers pick a runtime by it, the front ends report it.
 */
export type Platform = 'onnx' | 'tfjs' | 'tensorflow';

export const PLATFORMS: readonly Platform[] = ['onnx', 'tfjs', 'tensorflow'];

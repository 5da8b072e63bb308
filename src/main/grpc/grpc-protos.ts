import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { findProtoDir } from '../codecs/proto-dir.js';
import { PROTO_OBJECT_OPTIONS } from '../codecs/proto-object-options.js';

/** The service files tensorserve serves, relative to the `protos/` directory. */
export const PROTO_FILES: readonly string[] = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
  'kserve/grpc_predict_v2.proto',
  'grpc/health/v1/health.proto',
];

/** proto-loader's options: the server-wide object mapping (PROTO_OBJECT_OPTIONS), field names as in the .proto. */
export const LOADER_OPTIONS: protoLoader.Options = Object.freeze({ keepCase: true, ...PROTO_OBJECT_OPTIONS });

export interface LoadedProtos {
  readonly protoDir: string;
  readonly packageDefinition: protoLoader.PackageDefinition;
  readonly grpcObject: grpc.GrpcObject;
}

let cached: LoadedProtos | undefined;

/** Loads (once per process) every served .proto file; `google/protobuf/*` come from protobufjs. */
export function loadProtos(protoDir?: string): LoadedProtos {
  if (cached && (protoDir === undefined || protoDir === cached.protoDir)) return cached;
  const dir = protoDir ?? findProtoDir();
  const packageDefinition = protoLoader.loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [dir] });
  const loaded = {
    protoDir: dir,
    packageDefinition,
    grpcObject: grpc.loadPackageDefinition(packageDefinition),
  };
  if (protoDir === undefined) cached = loaded;
  return loaded;
}

/** The service definition of a fully qualified service name, e.g. `inference.GRPCInferenceService`. */
export function serviceDefinition(protos: LoadedProtos, fullName: string): grpc.ServiceDefinition {
  const def = protos.packageDefinition[fullName];
  if (def === undefined || 'format' in def)
    throw new Error(`${fullName} is not a service in the loaded protos`);
  return def as grpc.ServiceDefinition;
}

/** tensorserve's version, from the package.json beside protos/. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(findProtoDir(), '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

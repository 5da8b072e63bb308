import { checkGrpcRequest, runGrpcLoad } from './grpc-load.js';
import { runH2GrpcLoad } from './h2-grpc-load.js';
import type { LoadResult } from './latency.js';
import { checkRestRequest, runRestLoad } from './rest-load.js';
import {
  type InputTensor,
  modelInferRequest,
  type Protocol,
  predictRequest,
  restRequest,
  tensorBytes,
} from './scenarios.js';

/** Where a server listens (both on 127.0.0.1). */
export interface Target {
  readonly restUrl: string;
  readonly grpcAddress?: string;
}

/** A load generator bound to one protocol, model and request; `run` is one load point. */
export interface ProtocolLoad {
  readonly protocol: Protocol;
  /** Bytes one request carries on the wire (the body or the message's tensor bytes). */
  readonly requestBytes: number;
  /** Sends one request; throws with the server's answer when it fails. */
  check(): Promise<void>;
  run(concurrency: number, durationS: number): Promise<LoadResult>;
}

/**
 * gRPC load generator: `grpc-js` (its client, grpc-load.ts; the default) or `h2`
 * (node:http2 with the request serialized once, h2-grpc-load.ts).
 */
export type GrpcClient = 'grpc-js' | 'h2';

/** Builds the request once for `protocol` and returns the matching load generator. */
export function protocolLoad(
  protocol: Protocol,
  target: Target,
  model: string,
  inputs: readonly InputTensor[],
  options: { readonly grpcClient?: GrpcClient } = {},
): ProtocolLoad {
  if (protocol === 'grpc-predict' || protocol === 'grpc-infer') {
    const address = target.grpcAddress;
    if (address === undefined) throw new Error(`${protocol} needs a gRPC address (--grpc host:port)`);
    const method = protocol === 'grpc-predict' ? 'predict' : 'infer';
    const request = method === 'predict' ? predictRequest(model, inputs) : modelInferRequest(model, inputs);
    const requestBytes = inputs.reduce((n, t) => n + tensorBytes(t).length, 0);
    return {
      protocol,
      requestBytes,
      check: () => checkGrpcRequest(address, method, request),
      run: (concurrency, durationS) =>
        (options.grpcClient === 'h2' ? runH2GrpcLoad : runGrpcLoad)({
          address,
          method,
          request,
          concurrency,
          durationS,
        }),
    };
  }
  const request = restRequest(protocol, model, inputs);
  return {
    protocol,
    requestBytes: request.body.length,
    check: () => checkRestRequest(target.restUrl, request),
    run: (concurrency, durationS) =>
      runRestLoad({ baseUrl: target.restUrl, request, concurrency, durationS }),
  };
}

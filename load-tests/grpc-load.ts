import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../src/main/grpc/grpc-protos.js';
import { LatencyRecorder, type LoadResult } from './latency.js';

/** The two unary inference RPCs the load generator drives. */
export type GrpcMethod = 'predict' | 'infer';

const METHODS: Record<GrpcMethod, { service: string; rpc: string }> = {
  predict: { service: 'tensorflow.serving.PredictionService', rpc: 'Predict' },
  infer: { service: 'inference.GRPCInferenceService', rpc: 'ModelInfer' },
};

export interface GrpcLoadOptions {
  /** `127.0.0.1:<port>`, plaintext. */
  readonly address: string;
  readonly method: GrpcMethod;
  /** The request message in proto-loader object form (see scenarios.ts). */
  readonly request: Record<string, unknown>;
  /** Calls kept in flight at once. */
  readonly concurrency: number;
  readonly durationS: number;
  /** HTTP/2 connections the calls are spread over (default min(concurrency, 4)). */
  readonly channels?: number;
}

type UnaryFn = (req: unknown, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void;

function clients(o: GrpcLoadOptions): { calls: UnaryFn[]; close(): void } {
  const { grpcObject } = loadProtos();
  const { service, rpc } = METHODS[o.method];
  let ctor: unknown = grpcObject;
  for (const part of service.split('.')) ctor = (ctor as Record<string, unknown>)[part];
  const Client = ctor as grpc.ServiceClientConstructor;
  const n = Math.max(1, o.channels ?? Math.min(o.concurrency, 4));
  const made = Array.from(
    { length: n },
    () =>
      new Client(o.address, grpc.credentials.createInsecure(), {
        // a channel of its own per client, so the calls spread over n connections
        'grpc.use_local_subchannel_pool': 1,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        'grpc.max_send_message_length': 64 * 1024 * 1024,
      }),
  );
  const calls = made.map((c) => {
    const fn = (c as unknown as Record<string, UnaryFn>)[rpc];
    return fn.bind(c) as UnaryFn;
  });
  return {
    calls,
    close: () => {
      for (const c of made) c.close();
    },
  };
}

/**
 * Closed-loop gRPC load: `concurrency` loops, each keeping one unary call in flight until
 * `durationS` is over; latencies in an HDR histogram. Resolves when every loop has ended.
 */
export async function runGrpcLoad(o: GrpcLoadOptions): Promise<LoadResult> {
  const { calls, close } = clients(o);
  const recorder = new LatencyRecorder();
  const started = process.hrtime.bigint();
  const endAt = started + BigInt(Math.round(o.durationS * 1e9));
  const loop = (i: number) =>
    new Promise<void>((resolve) => {
      const call = calls[i % calls.length];
      const next = () => {
        if (process.hrtime.bigint() >= endAt) return resolve();
        const t0 = process.hrtime.bigint();
        call(o.request, (err) => {
          if (err) recorder.recordError(`${grpc.status[err.code] ?? err.code}: ${err.details}`);
          else recorder.recordOk(Number(process.hrtime.bigint() - t0) / 1000);
          next();
        });
      };
      next();
    });
  try {
    await Promise.all(Array.from({ length: o.concurrency }, (_, i) => loop(i)));
  } finally {
    close();
  }
  return recorder.result(o.concurrency, Number(process.hrtime.bigint() - started) / 1e9);
}

/** One call; throws with the status unless it succeeds (a pre-flight check). */
export async function checkGrpcRequest(
  address: string,
  method: GrpcMethod,
  request: Record<string, unknown>,
): Promise<void> {
  const { calls, close } = clients({ address, method, request, concurrency: 1, durationS: 0, channels: 1 });
  try {
    await new Promise<void>((resolve, reject) =>
      calls[0](request, (err) => (err ? reject(new Error(`${method}: ${err.message}`)) : resolve())),
    );
  } finally {
    close();
  }
}

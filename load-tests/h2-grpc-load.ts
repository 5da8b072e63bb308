import http2 from 'node:http2';
import { loadProtos, serviceDefinition } from '../src/main/grpc/grpc-protos.js';
import type { GrpcLoadOptions, GrpcMethod } from './grpc-load.js';
import { LatencyRecorder, type LoadResult } from './latency.js';

const PATHS: Record<GrpcMethod, { service: string; rpc: string }> = {
  predict: { service: 'tensorflow.serving.PredictionService', rpc: 'Predict' },
  infer: { service: 'inference.GRPCInferenceService', rpc: 'ModelInfer' },
};

/** The request message serialized once and framed as one gRPC message (flag byte, length, bytes). */
function framedRequest(method: GrpcMethod, request: Record<string, unknown>): Buffer {
  const { service, rpc } = PATHS[method];
  const def = serviceDefinition(loadProtos(), service)[rpc];
  const message = def.requestSerialize(request);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** What one call ended with: grpc-status 0, or the status and message it failed with. */
type Outcome = { ok: true } | { ok: false; error: string };

/**
 * One unary call on a session: the framed request in one DATA frame, the answer's bytes
 * discarded, the outcome read from grpc-status (trailers, or headers for a trailers-only answer).
 */
function call(session: http2.ClientHttp2Session, path: string, frame: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    let message: string | undefined;
    const note = (h: http2.IncomingHttpHeaders) => {
      const s = h['grpc-status'];
      if (s !== undefined) {
        status = String(s);
        message = h['grpc-message'] === undefined ? undefined : String(h['grpc-message']);
      }
    };
    stream.on('response', note);
    stream.on('trailers', note);
    stream.on('data', () => {});
    stream.on('error', (err) => {
      status ??= 'transport';
      message ??= err.message;
    });
    stream.on('close', () =>
      resolve(
        status === '0'
          ? { ok: true }
          : { ok: false, error: `grpc-status ${status ?? 'missing'}: ${message ?? ''}` },
      ),
    );
    stream.end(frame);
  });
}

function connect(address: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/**
 * Closed-loop gRPC load with node:http2 directly, as h2load or ghz drive a server: the
 * request message serialized once, answers counted but not decoded, so the load
 * generator's cost per call is HTTP/2 framing only (grpc-js's client, grpc-load.ts, also
 * encodes, decodes and runs its call stack per call, which on a 2-core box running the
 * server too caps what is measured). Same options and result as runGrpcLoad.
 */
export async function runH2GrpcLoad(o: GrpcLoadOptions): Promise<LoadResult> {
  const { service, rpc } = PATHS[o.method];
  const path = `/${service}/${rpc}`;
  const frame = framedRequest(o.method, o.request);
  const n = Math.max(1, o.channels ?? Math.min(o.concurrency, 4));
  const sessions = await Promise.all(Array.from({ length: n }, () => connect(o.address)));
  const recorder = new LatencyRecorder();
  const started = process.hrtime.bigint();
  const endAt = started + BigInt(Math.round(o.durationS * 1e9));
  const loop = async (i: number) => {
    const session = sessions[i % sessions.length];
    while (process.hrtime.bigint() < endAt) {
      const t0 = process.hrtime.bigint();
      const outcome = await call(session, path, frame);
      if (outcome.ok) recorder.recordOk(Number(process.hrtime.bigint() - t0) / 1000);
      else recorder.recordError(outcome.error);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, (_, i) => loop(i)));
  } finally {
    for (const s of sessions) s.close();
  }
  return recorder.result(o.concurrency, Number(process.hrtime.bigint() - started) / 1e9);
}

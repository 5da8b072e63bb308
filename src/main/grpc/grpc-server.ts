import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { DEFAULT_CONNECTION_SETTINGS, type GrpcConnectionSettings } from '../config/connection-config.js';
import type { ConnectionBudget } from '../net/connection-budget.js';
import { MAX_TIMER_MS } from '../net/deadline-cap.js';
import type { ExampleInference } from '../serving/classify-regress.js';
import type { InferenceCore } from '../serving/inference-core.js';
import { withFastCodecs } from './fast-methods.js';
import type { GrpcAuthenticate, GrpcCallEnd, InternalErrorHook } from './grpc-call.js';
import { GrpcConnections, grpcConnectionOptions } from './grpc-connections.js';
import { loadProtos, packageVersion, serviceDefinition } from './grpc-protos.js';
import { HealthService } from './health-service.js';
import { kserveServiceHandlers, type ServerInfo } from './kserve-service.js';
import { modelServiceHandlers, type ReloadOptions } from './tf-model-service.js';
import { predictionServiceHandlers } from './tf-prediction-service.js';

export interface GrpcTlsOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** CA bundle client certificates are verified against (required with requireClientCert). */
  readonly ca?: Buffer;
  /** Mutual TLS: refuse clients without a certificate signed by `ca`. */
  readonly requireClientCert: boolean;
}

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port (see GrpcServer.port). */
  readonly port: number;
  /** Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  readonly tls?: GrpcTlsOptions;
  /** Largest element count of one request tensor (default 16 Mi, as server.limits). */
  readonly maxTensorElements?: number;
  /** Answer with typed value lists instead of raw bytes (default false). */
  readonly typedOutputs?: boolean;
  /** Caller identity from metadata / client certificate; tenancy off when absent. */
  readonly authenticate?: GrpcAuthenticate;
  /** Sees every non-ServingError a handler throws (log it); the client only gets INTERNAL. */
  readonly onInternalError?: InternalErrorHook;
  /** Sees every finished unary call (the access log); must not throw. */
  readonly onCallEnd?: (end: GrpcCallEnd) => void;
  /** How HandleReloadConfigRequest completes a ModelServerConfig. */
  readonly reload?: ReloadOptions;
  /** KServe ServerMetadata; default name `tensorserve`, the package version, no extensions. */
  readonly serverInfo?: ServerInfo;
  /** How often health watchers re-check `core.ready()` (default 1000 ms). */
  readonly healthPollMs?: number;
  /** Classify, Regress and MultiInference; UNIMPLEMENTED when absent. */
  readonly examples?: ExampleInference;
  /** Directory holding the .proto files (default: found above this module). */
  readonly protoDir?: string;
  /** HTTP/2 idle, age and keepalive timers (server.grpc); grpc-js defaults when absent. */
  readonly connectionSettings?: GrpcConnectionSettings;
  /** The connection cap shared with the REST front end; none when absent. */
  readonly budget?: ConnectionBudget;
  /** Every grpc-timeout is clamped to this many ms (default: what Node's timers honour). */
  readonly maxDeadlineMs?: number;
}

/** A running gRPC front end. Owned by the server; `close` once. */
export interface GrpcServer {
  /** The bound port. */
  readonly port: number;
  /** False when grpc-js hid its HTTP/2 servers (see GrpcConnections): no cap, no deadline clamp. */
  readonly tracksConnections: boolean;
  readonly server: grpc.Server;
  /** Health: SERVING only while serving and `core.ready()`; false when draining. */
  setServing(serving: boolean): void;
  /**
   * Shutdown, step one: health watchers end, the listener closes, every connection gets
   * PINGs and, once one is answered while the peer has a call open (see ShutdownNotice; at
   * the latest after `drainNoticeMs`), its GOAWAY; resolves once every accepted call has
   * finished and its connection closed.
   */
  stopAccepting(): Promise<void>;
  /** Shutdown deadline: cancels the calls left and destroys every connection; returns how many. */
  destroyAll(): number;
  /** Stops accepting calls, waits up to `graceMs` (default 10 s) for in-flight ones, then cancels them. */
  close(graceMs?: number): Promise<void>;
}

/** Services the health service knows by name (besides `""`). */
export const SERVED_SERVICES: readonly string[] = [
  'tensorflow.serving.PredictionService',
  'tensorflow.serving.ModelService',
  'inference.GRPCInferenceService',
  'grpc.health.v1.Health',
];

const DEFAULT_MAX_TENSOR_ELEMENTS = 16 * 1024 * 1024;

function credentialsOf(tls: GrpcTlsOptions | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  if (tls.requireClientCert && tls.ca === undefined) {
    throw new Error('gRPC TLS: requireClientCert needs a CA (tls.ca) to verify client certificates against');
  }
  return grpc.ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    tls.requireClientCert,
  );
}

function bindAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts the gRPC front end: TF Serving's PredictionService and ModelService, KServe v2's
 * GRPCInferenceService, grpc.health.v1.Health and server reflection, all calling `core`.
 * Rejects when the address cannot be bound or the TLS material is unusable.
 */
export async function createGrpcServer(core: InferenceCore, opts: GrpcServerOptions): Promise<GrpcServer> {
  const protos = loadProtos(opts.protoDir);
  const env = {
    authenticate: opts.authenticate,
    onInternalError: opts.onInternalError ?? (() => {}),
    onCallEnd: opts.onCallEnd,
  };
  const codec = {
    maxTensorElements: opts.maxTensorElements ?? DEFAULT_MAX_TENSOR_ELEMENTS,
    typedOutputs: opts.typedOutputs ?? false,
  };
  const health = new HealthService(
    () => core.ready(),
    SERVED_SERVICES,
    opts.healthPollMs,
    core.modelServing === undefined ? undefined : (model) => core.modelServing?.(model),
  );
  const info = opts.serverInfo ?? {
    name: 'tensorserve',
    version: packageVersion(),
    extensions: [],
  };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': -1,
    // Channelz keeps per-call statistics (a Date and counters per call) nobody reads here.
    'grpc.enable_channelz': 0,
    ...(opts.connectionSettings === undefined ? {} : grpcConnectionOptions(opts.connectionSettings)),
  });
  const add = (name: string, impl: grpc.UntypedServiceImplementation) =>
    server.addService(withFastCodecs(name, serviceDefinition(protos, name)), impl);
  add('tensorflow.serving.PredictionService', predictionServiceHandlers(core, env, codec, opts.examples));
  add('tensorflow.serving.ModelService', modelServiceHandlers(core, env, opts.reload ?? {}));
  add(
    'inference.GRPCInferenceService',
    kserveServiceHandlers(core, env, codec, info, () => health.isServing()),
  );
  add('grpc.health.v1.Health', health.handlers(env.onInternalError));
  new ReflectionService(protos.packageDefinition).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(bindAddress(opts.host, opts.port), credentialsOf(opts.tls), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });

  const connections = new GrpcConnections(opts.budget, opts.maxDeadlineMs ?? MAX_TIMER_MS);
  const tracked = connections.attach(server);
  let stopping: Promise<void> | undefined;
  const noticeMs = opts.connectionSettings?.drainNoticeMs ?? DEFAULT_CONNECTION_SETTINGS.grpc.drainNoticeMs;
  const stopAccepting = () => {
    stopping ??= (async () => {
      health.setServing(false);
      health.close();
      // A PING round trip per session before its GOAWAY; tryShutdown's for the sessions left.
      await connections.noticeShutdown(noticeMs);
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    })();
    return stopping;
  };
  const destroyAll = () => {
    const n = connections.open;
    server.forceShutdown();
    connections.destroyAll();
    return n;
  };
  return {
    port,
    server,
    tracksConnections: tracked,
    setServing: (serving) => health.setServing(serving),
    stopAccepting,
    destroyAll,
    close(graceMs = 10_000) {
      const timer = setTimeout(destroyAll, graceMs);
      return stopAccepting().finally(() => clearTimeout(timer));
    },
  };
}

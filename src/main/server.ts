import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { BatchScheduler } from '../batching/scheduler.js';
import { DevicePool } from '../workers/device-pool.js';
import type { ModelConfig } from './config/model-config.js';
import type { ServerConfig } from './config/server-config.js';
import { createGrpcServer } from './grpc/grpc-server.js';
import { ServableManager } from './lifecycle/manager.js';
import { OPEN_NAMESPACE } from './model-namespace.js';
import { PredictionService } from './prediction-service.js';
import { type RestServer, startRestServer } from './rest/rest-server.js';
import { PoolVersionLoader } from './version-loader.js';

type GrpcServer = Awaited<ReturnType<typeof createGrpcServer>>;

export interface StartOptions {
  /** Logger to use; default: pino JSON to stdout at the config's level. */
  readonly logger?: Logger;
  /** Module exporting `loadRuntime(platform)` for the workers (tests plug in fakes). */
  readonly runtimeModule?: string;
}

/**
 * One running tensorserve: device pools, scheduler, lifecycle manager, the prediction
 * service and the front ends, started in that order and closed in reverse.
 */
export class TensorServe {
  private constructor(
    readonly config: ServerConfig,
    readonly logger: Logger,
    readonly pools: ReadonlyMap<string, DevicePool>,
    readonly scheduler: BatchScheduler,
    readonly manager: ServableManager,
    readonly core: PredictionService,
    private rest: RestServer | undefined,
    private grpc: GrpcServer | undefined,
  ) {}

  /** REST port actually bound (-1 when off). */
  get restPort(): number {
    return this.rest?.port ?? -1;
  }

  /** gRPC port actually bound (-1 when off). */
  get grpcPort(): number {
    return this.grpc?.port ?? -1;
  }

  static async start(config: ServerConfig, options: StartOptions = {}): Promise<TensorServe> {
    const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'tensorserve' } });
    const pools = new Map<string, DevicePool>();
    for (const d of config.devices) {
      pools.set(
        d.name,
        new DevicePool({
          device: d.name,
          workers: d.workers,
          intraOpThreads: d.intraOpThreads,
          runtimeModule: options.runtimeModule,
        }),
      );
    }
    const scheduler = new BatchScheduler({});
    const manager = new ServableManager({
      loader: new PoolVersionLoader(pools, scheduler),
      pollIntervalMs: config.pollIntervalMs,
      logger,
    });
    const core = new PredictionService({
      servables: manager,
      queue: scheduler,
      namespace: OPEN_NAMESPACE,
      maxTensorElements: config.limits.maxTensorElements,
    });
    const server = new TensorServe(config, logger, pools, scheduler, manager, core, undefined, undefined);
    await manager.setModels(config.models);
    manager.start();
    for (const name of manager.modelNames()) {
      for (const s of manager.status(name)) {
        logger.info({ model: name, version: s.version, state: s.state, error: s.errorMessage || undefined }, 'model version');
      }
    }
    await server.openFrontEnds();
    logger.info({ rest_port: server.restPort, grpc_port: server.grpcPort }, 'tensorserve ready');
    return server;
  }

  private async openFrontEnds(): Promise<void> {
    const c = this.config;
    if (c.restPort >= 0) {
      this.rest = await startRestServer(this.core, {
        host: c.host,
        port: c.restPort,
        tls: c.tls,
        logger: this.logger,
        limits: c.limits,
        defaultRequestTimeoutMs: c.defaultRequestTimeoutMs,
        authenticate: () => undefined,
      });
    }
    if (c.grpcPort >= 0) {
      this.grpc = await createGrpcServer(this.core, {
        host: c.host,
        port: c.grpcPort,
        maxMessageBytes: c.limits.maxGrpcMessageBytes,
        tls: c.tls
          ? {
              cert: readFileSync(c.tls.certPath),
              key: readFileSync(c.tls.keyPath),
              ca: c.tls.caPath ? readFileSync(c.tls.caPath) : undefined,
              requireClientCert: c.tls.requireClientCert,
            }
          : undefined,
      });
      this.grpc.setServing(this.core.ready());
    }
  }

  /** Applies a new model list (config reload); resolves when the new versions are settled. */
  async reloadModels(models: readonly ModelConfig[]): Promise<void> {
    await this.manager.setModels(models);
  }

  /**
   * Graceful drain: readiness turns false, the front ends stop accepting and wait for
   * in-flight calls (up to drainTimeoutMs), then queues, versions and workers are closed.
   */
  async close(): Promise<void> {
    this.core.setDraining(true);
    this.grpc?.setServing(false);
    this.manager.stop();
    await Promise.all([this.rest?.close(), this.grpc?.close(this.config.drainTimeoutMs)]);
    await this.scheduler.close();
    await this.manager.close();
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}

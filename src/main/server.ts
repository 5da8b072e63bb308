import type { IncomingHttpHeaders } from 'node:http';
import type { DestinationStream, Logger } from 'pino';
import { BatchScheduler } from '../batching/scheduler.js';
import { TenantFairPolicy } from '../batching/tenant-fair-policy.js';
import { DevicePool } from '../workers/device-pool.js';
import { ConfigWatcher } from './config/config-watcher.js';
import { loadModelServerConfigFile, settingsFromDefaults } from './config/model-server-config.js';
import type { ServerConfig } from './config/server-config.js';
import { tlsMaterial } from './config/tls-material.js';
import { packageVersion } from './grpc/grpc-protos.js';
import { createGrpcServer, type GrpcServer } from './grpc/grpc-server.js';
import { applyConfigReload, type ReloadTarget } from './lifecycle/apply-config.js';
import type { ServableManager } from './lifecycle/manager.js';
import { PoolVersionLoader } from './lifecycle/pool-version-loader.js';
import { Residency } from './lifecycle/residency.js';
import { ServerCore } from './lifecycle/server-core.js';
import { Shutdown, type ShutdownReport } from './lifecycle/shutdown.js';
import { registerWarmupMetrics } from './lifecycle/warmup/warmup-metrics.js';
import { WarmupRunner } from './lifecycle/warmup/warmup-runner.js';
import { whenFirstReady } from './lifecycle/when-ready.js';
import { type AccessEntry, AccessLogSampler } from './logging/access-log.js';
import { createLogger } from './logging/create-logger.js';
import { registerResidencyMetrics } from './metrics/residency-metrics.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { UtilizationWindow } from './metrics/utilization-window.js';
import { ConnectionBudget, effectiveMaxConnections, readFdSoftLimit } from './net/connection-budget.js';
import { credentialsFromHeaders } from './rest/rest-context.js';
import { type RestServer, startRestServer } from './rest/rest-server.js';
import { ExampleInference } from './serving/classify-regress.js';
import { OPEN_LOOKUP, tenantLookup } from './serving/model-lookup.js';
import { PredictionService } from './serving/prediction-service.js';
import { exampleReplayers, warmupInputsRunner } from './serving/warmup-path.js';
import { registerTenancyMetrics, tenancyReport } from './tenancy/tenancy-report.js';
import { TenancyServices } from './tenancy/tenancy-services.js';

const VERSION = packageVersion();

export interface StartOptions {
  /** Logger to use; default: pino JSON at the config's level (see createLogger). */
  readonly logger?: Logger;
  /** Where the default logger writes (default stdout); ignored when `logger` is given. */
  readonly logDestination?: DestinationStream;
  /** Module exporting `loadRuntime(platform)` for the workers (tests plug in fakes). */
  readonly runtimeModule?: string;
  /**
   * Whether `start` resolves only once the initial model versions are AVAILABLE or failed
   * (default true). The ports listen before the models load either way; readiness tells.
   */
  readonly waitForModels?: boolean;
}

/**
 * One running tensorserve: device pools, scheduler, lifecycle manager, metrics, the
 * prediction service and the front ends, started in that order and closed in reverse.
 */
export class TensorServe {
  readonly pools = new Map<string, DevicePool>();
  readonly scheduler: BatchScheduler;
  readonly manager: ServableManager;
  readonly metrics: ServerMetrics;
  readonly core: PredictionService;
  /** Classify, Regress and MultiInference over the core, for the front ends. */
  readonly examples: ExampleInference;
  readonly tenancy: TenancyServices;
  /** The model list, every reload path and the registry of loaded versions (TF Serving's ServerCore). */
  readonly serverCore: ServerCore;
  /** Records an on-demand request's latency as a hit or a miss (set with the residency metrics). */
  private observeResidency: (result: 'hit' | 'miss', latencyMicros: number) => void = () => {};
  private readonly watcher: ConfigWatcher | undefined;
  private rest: RestServer | undefined;
  /** Tenant id → scheduling weight, read by the fair policy; a config reload updates it. */
  private readonly tenantWeights = new Map<string, number>();
  private grpc: GrpcServer | undefined;
  private readonly budget: ConnectionBudget;
  private shutdownSequence: Shutdown | undefined;
  /** Settles when the initial model list has loaded (every version AVAILABLE or failed). */
  private initialLoad: Promise<void> = Promise.resolve();

  private constructor(
    readonly config: ServerConfig,
    readonly logger: Logger,
    options: StartOptions,
  ) {
    for (const d of config.devices) {
      const pool = new DevicePool({
        device: d.name,
        workers: d.workers,
        intraOpThreads: d.intraOpThreads,
        interOpThreads: d.interOpThreads,
        runtimeModule: options.runtimeModule,
        logger,
        logLevel: logger.levelVal,
        measureMemory: d.memoryMeasurement !== 'estimate',
      });
      this.pools.set(d.name, pool);
    }
    this.tenancy = new TenancyServices({
      tenancy: config.tenancy,
      devices: config.devices,
      maxQueuedRequests: config.limits.maxQueuedRequests,
    });
    this.metrics = new ServerMetrics({ tenantLabel: this.tenancy.enabled });
    const weights = this.tenantWeights;
    for (const t of config.tenancy.tenants) weights.set(t.id, t.weight);
    this.scheduler = new BatchScheduler({
      // Fair across tenants on each device when tenancy is on; TF Serving's round robin across models otherwise.
      selectionPolicy: this.tenancy.enabled
        ? () => new TenantFairPolicy({ weightOf: (t) => (t === undefined ? 1 : (weights.get(t) ?? 1)) })
        : undefined,
      onFault: (f) => this.metrics.recordBatchFault(f.modelName, f.event),
      onBatch: (b) => {
        this.metrics.recordBatch({
          model: b.modelName,
          version: b.version,
          inputBatchSize: b.rows,
          processedBatchSize: b.paddedRows,
          paddingSize: b.paddedRows - b.rows,
          computeInputMicros: b.timings.computeInputMicros,
          computeInferMicros: b.timings.computeInferMicros,
          computeOutputMicros: b.timings.computeOutputMicros,
        });
      },
    });
    for (const t of config.tenancy.tenants) this.scheduler.setTenantWeight(t.id, t.weight);
    // Loads make room by evicting idle on-demand models (issue 12); the manager is created below.
    const residency = new Residency(
      this.tenancy.budget,
      { evictable: () => this.manager.evictable(), evict: (m, v) => this.manager.evict(m, v) },
      logger,
    );
    const runWarmupInputs = warmupInputsRunner(this.scheduler);
    const warmup = new WarmupRunner({
      run: runWarmupInputs,
      clock: this.scheduler.clock,
      replayers: exampleReplayers(runWarmupInputs),
      maxTensorElements: config.limits.maxTensorElements,
      logger,
      observe: registerWarmupMetrics(this.metrics.registry),
    });
    let fromDefaults: ReturnType<typeof settingsFromDefaults> | undefined;
    this.serverCore = new ServerCore({
      loader: (registry) =>
        new PoolVersionLoader(
          this.pools,
          this.scheduler,
          this.tenancy.budget,
          (v, r) =>
            logger.info(
              {
                model: v.model,
                version: v.version,
                device: v.device,
                tenant: v.tenant,
                estimated_bytes: r.estimatedBytes,
                measured_bytes: r.measuredBytes,
              },
              'model version memory',
            ),
          warmup,
          (request) => residency.reserve(request),
          (device, tenant) => residency.settle(device, tenant),
          registry,
        ),
      models: config.models,
      toManaged: (m) => this.tenancy.toManaged(m),
      defaults: (name) => {
        fromDefaults ??= settingsFromDefaults(config.modelDefaults);
        return fromDefaults(name);
      },
      pollIntervalMs: config.pollIntervalMs,
      logger,
    });
    this.manager = this.serverCore.manager;
    this.core = new PredictionService({
      servables: this.manager,
      queue: this.scheduler,
      namespace: this.tenancy.enabled
        ? tenantLookup(this.tenancy.namespaces, (name) => this.manager.modelConfig(name) !== undefined)
        : OPEN_LOOKUP,
      admission: this.tenancy.admission,
      inFlight: this.tenancy.enabled ? this.tenancy.inFlight : undefined,
      maxTensorElements: config.limits.maxTensorElements,
      observe: (o) => {
        this.metrics.recordRequest(o);
        if (o.residency !== undefined) this.observeResidency(o.residency, o.latencyMicros);
      },
      reload: (models) => this.serverCore.reloadModels(models),
      exampleSignatures: (internal) => this.manager.modelConfig(internal)?.signatures,
    });
    this.examples = new ExampleInference(
      this.core,
      (model, caller) => this.manager.modelConfig(this.core.internalName(caller, model))?.signatures,
    );
    const cap = effectiveMaxConnections(config.connections.maxConnections, readFdSoftLimit());
    if (cap.lowered) {
      logger.warn(
        {
          configured: config.connections.maxConnections,
          max_connections: cap.max,
          fd_soft_limit: cap.fdSoftLimit,
        },
        'server.connections.max_connections lowered to fit the open-files limit',
      );
    }
    this.budget = new ConnectionBudget(cap.max);
    this.watchMetrics();
    if (config.configFile && config.configPollIntervalMs > 0) {
      this.watcher = new ConfigWatcher(
        config.configFile,
        config.configPollIntervalMs,
        (file) => loadModelServerConfigFile(file, config.modelDefaults),
        (models) => this.serverCore.reloadModels(models),
        logger,
      );
    }
  }

  /** REST port actually bound (-1 when off). */
  get restPort(): number {
    return this.rest?.port ?? -1;
  }

  /** gRPC port actually bound (-1 when off). */
  get grpcPort(): number {
    return this.grpc?.port ?? -1;
  }

  /**
   * Starts everything: the ports listen at once (readiness stays false until every configured
   * model has an AVAILABLE version), then the initial models load. Resolves once they are
   * AVAILABLE or failed, or right after the ports open with `waitForModels: false`.
   */
  static async start(config: ServerConfig, options: StartOptions = {}): Promise<TensorServe> {
    const logger = options.logger ?? createLogger(config.logLevel, options.logDestination);
    const server = new TensorServe(config, logger, options);
    try {
      await server.openFrontEnds();
    } catch (err) {
      await server.close().catch(() => {});
      throw err;
    }
    logger.info({ rest_port: server.restPort, grpc_port: server.grpcPort }, 'tensorserve listening');
    server.initialLoad = server.serverCore.loadInitial().then(
      () => {
        if (server.shutdownSequence !== undefined) return;
        server.manager.start();
        server.watcher?.start();
        // Logged once the initial models have loaded (or failed: `ready` says which).
        logger.info(
          { rest_port: server.restPort, grpc_port: server.grpcPort, ready: server.core.ready() },
          'tensorserve ready',
        );
      },
      (err: unknown) => logger.error({ err }, 'initial model load failed'),
    );
    if (options.waitForModels ?? true) await server.initialLoad;
    return server;
  }

  /** Settles once the initial model list has loaded (every version AVAILABLE or failed). */
  modelsLoaded(): Promise<void> {
    return this.initialLoad;
  }

  private watchMetrics(): void {
    this.manager.onChange((e) => {
      // The lifecycle logs the transition itself (model-versions.ts).
      this.metrics.recordVersionState(e.model, e.version, e.state, e.loadMillis);
    });
    registerTenancyMetrics(this.metrics.registry, this.tenancy, (key) => this.serverCore.servable(key));
    this.observeResidency = registerResidencyMetrics(this.metrics.registry, {
      onChange: (l) => this.manager.onChange(l),
      onResidency: (l) => this.manager.onResidency(l),
      budget: this.tenancy.budget,
      residentVersions: () => this.serverCore.servables(),
    });
    this.metrics.setPendingProvider(() =>
      this.serverCore.servables().map((v) => ({
        model: v.model,
        version: v.version,
        pending: this.scheduler.pending(v.key),
      })),
    );
    const window = new UtilizationWindow();
    this.metrics.setDeviceProvider(() =>
      [...this.pools.values()].map((p) => {
        // Pending requests (not batches) of the models placed on this device.
        let queueDepth = 0;
        for (const v of this.serverCore.servables())
          if (v.device === p.device) queueDepth += this.scheduler.pending(v.key);
        const s = p.stats();
        return {
          device: p.device,
          utilization: window.sample(p.device, s.busySeconds, s.workers, s.utilization),
          busySeconds: s.busySeconds,
          queueDepth,
        };
      }),
    );
  }

  private async openFrontEnds(): Promise<void> {
    const c = this.config;
    const accessLog = new AccessLogSampler(c.accessLogSampleRate);
    const authenticate = (headers: IncomingHttpHeaders) =>
      this.tenancy.authenticate(credentialsFromHeaders(headers));
    if (c.restPort >= 0) {
      this.rest = await startRestServer(this.core, {
        examples: this.examples,
        host: c.host,
        port: c.restPort,
        tls: c.tls,
        connections: c.connections,
        budget: this.budget,
        maxDeadlineMs: c.connections.maxDeadlineMs,
        logger: this.logger,
        accessLog,
        limits: c.limits,
        defaultRequestTimeoutMs: c.defaultRequestTimeoutMs,
        authenticate,
        arrive: this.tenancy.enabled ? (tenant) => this.tenancy.admission.arrive(tenant) : undefined,
        kserve: {
          serverVersion: VERSION,
          repository: this.serverCore.repository,
          stats: (model, version, caller) =>
            this.metrics
              .stats(caller ? this.core.internalName(caller, model) : model, version)
              .map((s) => ({ ...s, name: model })),
        },
        scrape: c.prometheus.enable
          ? {
              metrics: this.metrics,
              paths: [c.prometheus.path, '/metrics'],
              authorize: (headers) =>
                this.tenancy.authenticator.authorizeScrape(credentialsFromHeaders(headers)),
            }
          : undefined,
        admin: { tenancyReport: () => tenancyReport(this.tenancy, (key) => this.serverCore.servable(key)) },
      });
    }
    if (c.grpcPort >= 0) {
      const openGrpc = () =>
        createGrpcServer(this.core, {
          examples: this.examples,
          host: c.host,
          port: c.grpcPort,
          maxMessageBytes: c.limits.maxGrpcMessageBytes,
          maxTensorElements: c.limits.maxTensorElements,
          connectionSettings: c.connections.grpc,
          budget: this.budget,
          maxDeadlineMs: c.connections.maxDeadlineMs,
          authenticate: this.tenancy.enabled
            ? (credentials) => this.tenancy.authenticate(credentials)
            : undefined,
          onInternalError: (err, method, requestId) =>
            this.logger.error({ err, method, request_id: requestId }, 'grpc call failed'),
          onCallEnd: (end) => {
            if (!accessLog.shouldLog(end.status !== 'OK')) return;
            const entry: AccessEntry = {
              method: end.method,
              grpc_status: end.status,
              duration_ms: end.durationMs,
              ...(end.model === undefined ? {} : { model: end.model }),
              ...(end.tenant === undefined ? {} : { tenant: end.tenant }),
            };
            this.logger.info({ request_id: end.requestId, ...entry }, 'access');
          },
          reload: {
            baseDir: c.baseDir,
            // A model the server already knows keeps its placement and batching.
            modelSettings: (name) => this.serverCore.modelSettings(name),
          },
          tls: c.tls ? { ...tlsMaterial(c.tls), requireClientCert: c.tls.requireClientCert } : undefined,
        });
      if (c.connections.grpc.listenWhenReady) this.openGrpcWhenReady(openGrpc);
      else this.grpc = await openGrpc();
    }
  }

  /**
   * server.grpc.listen_when_ready: the gRPC port is bound the first time the server is ready.
   * A bind failure then is logged and starts the shutdown (reason `grpc_bind_failed`).
   */
  private openGrpcWhenReady(open: () => Promise<GrpcServer>): void {
    whenFirstReady(
      { ready: () => this.core.ready(), onChange: (l) => this.manager.onChange(l) },
      () => this.shutdownSequence !== undefined,
      () => {
        open().then(
          (grpc) => {
            if (this.shutdownSequence !== undefined) return void grpc.close(0);
            this.grpc = grpc;
            this.logger.info(
              { grpc_port: grpc.port },
              'gRPC listening (listen_when_ready: the server is ready)',
            );
          },
          (err: unknown) => {
            this.logger.error({ err }, 'gRPC port could not be bound once ready');
            void this.shutdown('grpc_bind_failed');
          },
        );
      },
    );
  }

  /** Applies a reloaded config (YAML hot reload, SIGHUP); see applyConfigReload for what changes. */
  reloadConfig(next: ServerConfig, current: ServerConfig = this.config): Promise<void> {
    const target: ReloadTarget = {
      tenancy: this.tenancy,
      logger: this.logger,
      applyModels: (models) => this.serverCore.applyConfig(models),
      setTenantWeight: (tenant, weight) => {
        this.tenantWeights.set(tenant, weight);
        this.scheduler.setTenantWeight(tenant, weight);
      },
      setLogLevel: (level) => {
        this.logger.level = level;
      },
    };
    return applyConfigReload(target, next, current);
  }

  /**
   * The graceful shutdown of a signal (see Shutdown): readiness false at once, accepting and
   * serving for `shutdown_delay_ms`, then stop accepting and finish every accepted request,
   * destroy what is left at `drain_timeout_ms`, unload. Idempotent.
   */
  shutdown(reason: string): Promise<ShutdownReport> {
    return this.shutdownWith(reason, this.config.shutdownDelayMs, this.config.connections.drainIdleGraceMs);
  }

  /** The same shutdown without the delay (tests, embedding code). */
  async close(): Promise<void> {
    await this.shutdownWith('close', 0, 0);
  }

  private shutdownWith(reason: string, delayMs: number, idleGraceMs: number): Promise<ShutdownReport> {
    this.shutdownSequence ??= new Shutdown(
      {
        notReady: () => {
          this.core.setDraining(true);
          this.grpc?.setServing(false);
        },
        stopAccepting: async () => {
          this.manager.stop();
          await this.watcher?.stop();
          await Promise.all([this.rest?.stopAccepting(idleGraceMs), this.grpc?.stopAccepting()]);
        },
        destroyConnections: () => (this.rest?.destroyAll() ?? 0) + (this.grpc?.destroyAll() ?? 0),
        unload: async () => {
          this.tenancy.admission.draining = true;
          await this.rest?.close();
          await this.scheduler.close();
          await this.manager.close();
          await Promise.all([...this.pools.values()].map((p) => p.close()));
        },
      },
      { delayMs, drainTimeoutMs: this.config.drainTimeoutMs },
      this.logger,
    );
    return this.shutdownSequence.run(reason);
  }
}

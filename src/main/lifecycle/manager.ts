import { type Clock, type TimerHandle, wallClock } from '../../core/clock.js';
import { ServingError } from '../../core/errors.js';
import { servableNotFound } from '../../core/servable-errors.js';
import type { VersionSelector } from '../../core/version-selector.js';
import type { VersionStatus } from '../../core/version-status.js';
import type { ModelConfig, TransitionPolicyName } from '../config/model-config.js';
import type { VersionLoader } from './loader.js';
import { type LifecycleLogger, silentLogger } from './logger.js';
import { ModelVersions, type VersionChangeEvent } from './model-versions.js';
import { OfflineMetadata, type OfflineSignature } from './offline-metadata.js';
import type { ResidencyEvent } from './on-demand-state.js';
import { type ColdStartBounds, waitForResident } from './resident-wait.js';
import type { ServableHandle } from './servable.js';
import { labelNotAvailable, labelVersion, selectStatuses } from './servable-lookup.js';
import { FileSystemSource, type ListDir } from './source.js';
import { TRANSITION_POLICIES } from './transition-policy.js';

export type { VersionChangeEvent } from './model-versions.js';

export interface ServableManagerOptions {
  readonly loader: VersionLoader;
  /** Source poll period for `start()`; 0 or less: no periodic polling (only setModels/tick poll). */
  readonly pollIntervalMs: number;
  readonly clock?: Clock;
  readonly logger?: LifecycleLogger;
  /** Default availability-preserving. */
  readonly transitionPolicy?: TransitionPolicyName;
  /** Directory listing used by the source (tests). */
  readonly listDir?: ListDir;
}

/**
 * TF Serving's AspiredVersionsManager, realizing the model list ServerCore (server-core.ts)
 * gives it: ServerCore owns the list and every reload path, the manager what is served.
 * Per model it reconciles the versions wanted (source + version policy) with the versions
 * held, applying transition-policy actions, again after every state change; it
 * hands out ref-counted ServableHandles and unloads a version only once all its handles
 * are released (in-flight requests drain).
 *
 * Choices: labels follow TF Serving (a label must point at an AVAILABLE version when
 * assigned), except at start-up: the first setModels() applies its labels as given, so a
 * label may name a version still loading or not yet on disk; it resolves per request
 * (NOT_FOUND until that version is AVAILABLE) and is logged as a warning. See setModels()
 * for reloads.
 * `handle.release()` is idempotent: calls after the first do nothing. A base path that
 * cannot be read keeps the versions already served (and is reported by sourceError() and
 * in status's NOT_FOUND message when no version exists); an empty one unloads them all.
 * Config changes other than policy and labels (device, batching, ...) apply to versions
 * loaded afterwards; loaded versions keep the config they were loaded with.
 */
export class ServableManager {
  private readonly clock: Clock;
  private readonly logger: LifecycleLogger;
  private readonly source: FileSystemSource;
  private readonly pollIntervalMs: number;
  private readonly newModel: (name: string) => ModelVersions;
  private readonly models = new Map<string, ModelVersions>();
  private readonly listeners = new Set<(event: VersionChangeEvent) => void>();
  private readonly residencyListeners = new Set<(event: ResidencyEvent) => void>();
  private readonly offline: OfflineMetadata;
  private readonly waiters: { done: () => boolean; resolve: () => void }[] = [];
  private readonly dirty = new Set<ModelVersions>();
  private flushQueued = false;
  private pollCount = 0;
  private pollTimer: TimerHandle | undefined;
  private polling = false;
  private initialLoadSettled = false;
  private listApplied = false;
  private closed = false;

  constructor(options: ServableManagerOptions) {
    this.clock = options.clock ?? wallClock;
    this.logger = options.logger ?? silentLogger;
    this.source = new FileSystemSource({ listDir: options.listDir, clock: this.clock });
    this.pollIntervalMs = options.pollIntervalMs;
    const deps = {
      loader: options.loader,
      clock: this.clock,
      logger: this.logger,
      policy: TRANSITION_POLICIES[options.transitionPolicy ?? 'availability-preserving'],
      emit: (event: VersionChangeEvent) => this.emit(event),
      changed: (model: ModelVersions) => this.markDirty(model),
      residency: (event: ResidencyEvent) => this.emitResidency(event),
    };
    this.newModel = (name) => new ModelVersions(name, deps);
    this.offline = new OfflineMetadata(this.logger);
    // An on-demand version's signature is read from its file when it is registered (START).
    this.onChange((e) => {
      const model = this.models.get(e.model);
      const dir = model?.versionDir(e.version);
      if (e.state !== 'START' || model === undefined || !model.loadsOnDemand || dir === undefined) return;
      this.offline.prefetch(e.model, e.version, dir, model.config?.platform);
    });
  }

  /**
   * Realizes exactly this model list (start-up and config reload): new models are polled
   * and loaded, changed policies and labels apply, models not listed are unloaded (after
   * their handles drain, which this does not wait for). Resolves once every wanted version
   * is AVAILABLE or failed (END with its error). Throws INVALID_ARGUMENT on duplicate
   * names, FAILED_PRECONDITION after close().
   *
   * Labels: on a reload (every call after the first), once the versions have settled, each
   * new or moved label must point at an AVAILABLE version; otherwise the call throws
   * FAILED_PRECONDITION naming the label, version and model, and every model keeps the
   * labels it had (all or nothing; the model list itself has been applied, as in TF Serving).
   */
  async setModels(models: readonly ModelConfig[]): Promise<void> {
    if (this.closed) throw new ServingError('FAILED_PRECONDITION', 'The model manager is closed');
    const names = new Set<string>();
    for (const m of models) {
      if (names.has(m.name)) throw new ServingError('INVALID_ARGUMENT', `Duplicate model name: ${m.name}`);
      names.add(m.name);
    }
    const startup = !this.initialLoadSettled;
    this.listApplied = true;
    for (const m of models) {
      const model = this.models.get(m.name) ?? this.newModel(m.name);
      this.models.set(m.name, model);
      if (model.config?.basePath !== m.basePath) model.setVersionDirs([]);
      model.config = m;
      if (startup) model.labels = m.versionLabels;
    }
    for (const model of this.models.values()) {
      if (names.has(model.name) || model.config === undefined) continue;
      model.config = undefined;
      model.labels = {};
      this.logger.info({ model: model.name }, 'model removed from the model list');
    }
    await this.tick();
    await this.waitFor(() => [...this.models.values()].every((m) => m.settled()));
    await this.offline.idle();
    this.initialLoadSettled = true;
    if (startup) this.warnUnavailableLabels(models);
    else this.assignLabels(models);
  }

  /** Reload: applies every model's labels, or none (FAILED_PRECONDITION) if one is not AVAILABLE. */
  private assignLabels(models: readonly ModelConfig[]): void {
    const assigned: [ModelVersions, ModelConfig][] = [];
    for (const m of models) {
      const model = this.models.get(m.name);
      if (model === undefined) continue;
      const available = new Set(model.available());
      for (const [label, version] of Object.entries(m.versionLabels)) {
        const unchanged = Object.hasOwn(model.labels, label) && model.labels[label] === version;
        if (!unchanged && !available.has(version)) {
          const err = labelNotAvailable(m.name, label, version);
          this.logger.error({ model: m.name, label, version }, err.message);
          throw err;
        }
      }
      assigned.push([model, m]);
    }
    for (const [model, m] of assigned) model.labels = m.versionLabels;
  }

  private warnUnavailableLabels(models: readonly ModelConfig[]): void {
    for (const m of models) {
      const available = new Set(this.models.get(m.name)?.available());
      for (const [label, version] of Object.entries(m.versionLabels)) {
        if (available.has(version)) continue;
        this.logger.warn(
          { model: m.name, label, version },
          'version label points at a version that is not AVAILABLE; it resolves once that version is',
        );
      }
    }
  }

  /** One poll of every model's source and one reconcile step. Does not wait for loads. */
  async tick(): Promise<void> {
    await Promise.all([...this.models.values()].map((m) => this.poll(m)));
    for (const model of this.models.values()) model.reconcile();
    this.checkWaiters();
  }

  /** Polls every `pollIntervalMs` until stop(). Its timer does not keep the process alive. */
  start(): void {
    if (this.polling || this.closed || this.pollIntervalMs <= 0) return;
    this.polling = true;
    this.schedulePoll();
  }

  stop(): void {
    this.polling = false;
    if (this.pollTimer !== undefined) this.clock.clearTimer(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Stops polling, then unloads every version, each once its handles are released. */
  async close(): Promise<void> {
    this.stop();
    this.closed = true;
    for (const model of this.models.values()) {
      model.config = undefined;
      model.reconcile();
    }
    await this.waitFor(() => [...this.models.values()].every((m) => m.idle()));
  }

  /**
   * A handle on the selected AVAILABLE version (latest = highest AVAILABLE); the caller
   * must release() it. Throws NOT_FOUND `Servable not found for request: Latest(m)` /
   * `Specific(m, 5)` for an unknown model or a version that is not AVAILABLE (a label's
   * version adds ` (version label x)`), INVALID_ARGUMENT `Unrecognized servable version
   * label: x` for a label the model does not define (also on an unknown model, as TF Serving).
   */
  acquire(name: string, selector: VersionSelector): ServableHandle {
    const model = this.models.get(name);
    if (model !== undefined) return model.acquire(selector);
    if (selector.kind === 'label') labelVersion(undefined, selector.label);
    throw servableNotFound(name, selector.kind === 'version' ? selector.version : undefined);
  }

  /**
   * acquire(), plus on-demand residency: for a `load_on_demand` model whose selected version
   * is not AVAILABLE, starts its load (or joins the one under way: concurrent requests share
   * one load) and waits for it, bounded by `bounds` and the model's `cold_start_timeout_ms`
   * (see waitForResident for the errors). `latest` on a model with a newer wanted version than
   * the one serving also starts that version's load, without waiting for it. Pinned models
   * behave exactly as acquire().
   */
  async acquireResident(
    name: string,
    selector: VersionSelector,
    bounds: ColdStartBounds = {},
  ): Promise<ServableHandle> {
    const model = this.models.get(name);
    if (model === undefined || !model.loadsOnDemand) return this.acquire(name, selector);
    let missed = false;
    for (;;) {
      let handle: ServableHandle | undefined;
      let notResident: unknown;
      try {
        handle = model.acquire(selector);
      } catch (err) {
        // Not AVAILABLE (whatever code says so: not found, still loading): load it below.
        if (!(err instanceof ServingError)) throw err;
        notResident = err;
      }
      if (handle !== undefined) {
        this.emitResidency({ kind: 'hit', model: name, version: handle.version });
        const newest = selector.kind === 'latest' ? model.latestWanted() : undefined;
        if (newest !== undefined && newest > handle.version && model.versionState(newest) === 'new')
          model.demand(selector);
        return { ...handle, residency: missed ? 'miss' : 'hit' };
      }
      const version = model.demand(selector);
      if (version === undefined) throw notResident;
      this.emitResidency({ kind: 'miss', model: name, version });
      missed = true;
      const timeoutMs = model.config?.residency?.coldStartTimeoutMs ?? 0;
      await waitForResident(model, version, timeoutMs, bounds, (l) => this.onChange(l));
      // Evicted again before this request took its handle (a tiny budget): ask once more.
      if (model.versionState(version) === 'available') {
        return { ...model.acquire({ kind: 'version', version }), residency: 'miss' };
      }
    }
  }

  /**
   * True when `name` loads on demand and the selector names a wanted version: a request would
   * load it (also after a failed load, which the next request tries again). Never throws.
   */
  /** True when `name` is configured `load_on_demand` (see ServableSource.loadsOnDemand). */
  loadsOnDemand(name: string): boolean {
    return this.models.get(name)?.loadsOnDemand === true;
  }

  loadableOnDemand(name: string, selector: VersionSelector): boolean {
    try {
      // A failed on-demand load is tried again by the next request: not a reason to be unready.
      return this.onDemandVersion(name, selector) !== undefined;
    } catch {
      return false;
    }
  }

  /** The version `selector` picks of on-demand model `name` when the model wants it; undefined otherwise. */
  private onDemandVersion(name: string, selector: VersionSelector): number | undefined {
    const model = this.models.get(name);
    if (model === undefined || !model.loadsOnDemand) return undefined;
    const version =
      selector.kind === 'version'
        ? selector.version
        : selector.kind === 'label'
          ? model.labels[selector.label]
          : model.latestWanted();
    return version !== undefined && model.wants(version) ? version : undefined;
  }

  /**
   * For metadata of an on-demand model whose selected version is not resident: the version
   * and its signature read from the model file (OfflineMetadata); undefined otherwise.
   */
  offlineSignature(
    name: string,
    selector: VersionSelector,
  ): (OfflineSignature & { version: number }) | undefined {
    const version = this.onDemandVersion(name, selector);
    if (version === undefined) return undefined;
    const found = this.offline.get(name, version);
    return found === undefined ? undefined : { ...found, version };
  }

  /** Every on-demand version that could be evicted now (AVAILABLE, no handle held). */
  evictable(): { model: string; version: number; key: string; lastUsed: number }[] {
    return [...this.models.values()].flatMap((m) => m.evictable().map((v) => ({ model: m.name, ...v })));
  }

  /** Evicts one version (ModelVersions.evict); undefined when it is not evictable now. */
  evict(name: string, version: number): Promise<void> | undefined {
    return this.models.get(name)?.evict(version, 'lru');
  }

  /** Subscribes to residency events (hits, misses, evictions, cold starts); returns the unsubscribe. */
  onResidency(listener: (event: ResidencyEvent) => void): () => void {
    this.residencyListeners.add(listener);
    return () => this.residencyListeners.delete(listener);
  }

  /**
   * Statuses of a model's versions, highest first, including versions in END (unloaded, or
   * failed with their load error). No selector or `latest`: all versions. Throws NOT_FOUND
   * `Could not find any versions of model m` / `Could not find version 5 of model m`,
   * INVALID_ARGUMENT for an unknown label. A removed model keeps its END statuses.
   */
  status(name: string, selector?: VersionSelector): VersionStatus[] {
    const model = this.models.get(name);
    return selectStatuses(
      name,
      model?.config === undefined ? undefined : model.labels,
      model?.statuses() ?? [],
      selector,
      model?.sourceError?.message,
    );
  }

  /** Like status(name) but never throws: [] for an unknown model or one without versions (for logs). */
  versionStatuses(name: string): VersionStatus[] {
    return this.models.get(name)?.statuses() ?? [];
  }

  /** Models in the current model list, sorted. */
  modelNames(): string[] {
    return [...this.models.values()]
      .filter((m) => m.config !== undefined)
      .map((m) => m.name)
      .sort();
  }

  modelConfig(name: string): ModelConfig | undefined {
    return this.models.get(name)?.config;
  }

  /** AVAILABLE versions, highest first; empty for an unknown or removed model. */
  availableVersions(name: string): number[] {
    const model = this.models.get(name);
    return model?.config === undefined ? [] : model.available();
  }

  /**
   * Why a model of the current list is not served as configured (see ModelVersions.loadError);
   * undefined when it is, or when the name is not in the list. Meaningful once setModels()
   * has resolved. Never throws.
   */
  loadError(name: string): ServingError | undefined {
    return this.models.get(name)?.loadError();
  }

  /** Why the model's base path could not be read at the last poll, if it could not. */
  sourceError(name: string): ServingError | undefined {
    return this.models.get(name)?.sourceError;
  }

  /**
   * Server readiness (TF Serving and Triton's strict readiness): true while every model in the
   * current list has at least one AVAILABLE version, until close(). A model still loading,
   * failed, or whose versions are all gone makes the server not ready. An empty list is ready
   * once setModels() has been called. On-demand models (issue 12) do not need to be resident:
   * one counts as ready while it has a version on disk that a request would load, so neither
   * START nor an eviction takes the server out of a load balancer.
   */
  isReady(): boolean {
    if (this.closed || !this.listApplied) return false;
    for (const model of this.models.values()) {
      if (model.config !== undefined && !this.modelServable(model)) return false;
    }
    return true;
  }

  /**
   * True when `name` is in the model list and has an AVAILABLE version, or loads on demand
   * and a request would load its latest version. Never throws.
   */
  isModelReady(name: string): boolean {
    const model = this.models.get(name);
    return !this.closed && model?.config !== undefined && this.modelServable(model);
  }

  private modelServable(model: ModelVersions): boolean {
    if (model.available().length > 0) return true;
    return model.loadsOnDemand && this.loadableOnDemand(model.name, { kind: 'latest' });
  }

  /** True once the first setModels() has settled (every initial version AVAILABLE or failed). */
  initialLoadDone(): boolean {
    return this.initialLoadSettled;
  }

  /** Subscribes to every public state change (START ... END); returns the unsubscribe function. */
  onChange(listener: (event: VersionChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async poll(model: ModelVersions): Promise<void> {
    const config = model.config;
    if (config === undefined) return;
    const seq = ++this.pollCount;
    const result = await this.source.poll(config);
    // A reload or a newer poll overtook this one: its result is stale.
    if (model.config !== config || seq < model.appliedPoll) return;
    model.appliedPoll = seq;
    if (result.error !== undefined && model.sourceError?.message !== result.error.message) {
      this.logger.error({ model: model.name, err: result.error }, 'cannot read model base path');
    }
    model.sourceError = result.error;
    if (result.error === undefined) model.setVersionDirs(result.versions);
  }

  private schedulePoll(): void {
    this.pollTimer = this.clock.setTimer(() => {
      this.pollTimer = undefined;
      this.tick()
        .catch((err: unknown) => this.logger.error({ err }, 'model source poll failed'))
        .finally(() => {
          if (this.polling) this.schedulePoll();
        });
    }, this.pollIntervalMs);
    (this.pollTimer as { unref?: () => void } | undefined)?.unref?.();
  }

  /** Reconciles after the current call stack: a transition may fire inside reconcile(). */
  private markDirty(model: ModelVersions): void {
    this.dirty.add(model);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      const dirty = [...this.dirty];
      this.dirty.clear();
      for (const m of dirty) {
        try {
          m.reconcile();
        } catch (err) {
          // An illegal transition is a bug; keep the server up and the other models going.
          this.logger.error({ model: m.name, err }, 'model reconcile failed');
        }
      }
      this.checkWaiters();
    });
  }

  private emit(event: VersionChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err }, 'version change listener threw');
      }
    }
  }

  private emitResidency(event: ResidencyEvent): void {
    for (const listener of this.residencyListeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err }, 'residency listener threw');
      }
    }
  }

  private waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  private checkWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      if (!waiter.done()) continue;
      this.waiters.splice(i, 1);
      waiter.resolve();
    }
  }
}

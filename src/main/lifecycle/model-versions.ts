import type { Clock } from '../../core/clock.js';
import { ERROR_CODES, type ErrorCode, ServingError } from '../../core/errors.js';
import { servableNotFound } from '../../core/servable-errors.js';
import type { VersionSelector } from '../../core/version-selector.js';
import type { VersionState, VersionStatus } from '../../core/version-status.js';
import type { ModelConfig } from '../config/model-config.js';
import { type HarnessState, LoaderHarness, PUBLIC_STATE } from './harness.js';
import type { VersionLoader } from './loader.js';
import type { LifecycleLogger } from './logger.js';
import { OnDemandState, type ResidencyEvent } from './on-demand-state.js';
import type { ServableHandle } from './servable.js';
import { type LabelMap, labelVersion, servableLoading } from './servable-lookup.js';
import { type ServingPlan, servingPlan } from './serving-plan.js';
import type { VersionDir } from './source.js';
import { TRANSITION_POLICIES, type TransitionPolicy } from './transition-policy.js';
import { wantedVersions } from './version-policy.js';

/** One public state change of one version (metrics and logs listen to these). */
export interface VersionChangeEvent {
  readonly model: string;
  readonly version: number;
  readonly state: VersionState;
  /** On AVAILABLE: duration of the successful load attempt. */
  readonly loadMillis?: number;
  /** On AVAILABLE: memory the loader reported. */
  readonly memoryBytes?: number;
  /** On END after a failure: the error kept in the version's status. */
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

export interface ModelVersionsDeps {
  readonly loader: VersionLoader;
  readonly clock: Clock;
  readonly logger: LifecycleLogger;
  /** The server's default; a model's `transitionPolicy` overrides it. */
  readonly policy: TransitionPolicy;
  readonly emit: (event: VersionChangeEvent) => void;
  /** After every harness transition; the manager schedules a reconcile of this model. */
  readonly changed: (model: ModelVersions) => void;
  /** On-demand residency events (hits, misses, evictions) for metrics. Must not throw. */
  readonly residency?: (event: ResidencyEvent) => void;
}

interface Slot {
  readonly harness: LoaderHarness;
  /** Set when the version becomes AVAILABLE, from what its load returned. */
  plan?: ServingPlan;
  refs: number;
}

/**
 * Everything the manager holds for one model name: its config (undefined once removed
 * from the model list), the versions on disk, the live harnesses with their handle counts,
 * and the final statuses of retired versions (kept for status(), like TF Serving's
 * ServableStateMonitor). Owned and driven only by ServableManager.
 */
export class ModelVersions {
  config: ModelConfig | undefined;
  /** The labels in effect (set by the manager; may lag config.versionLabels, see setModels). */
  labels: LabelMap = {};
  sourceError: ServingError | undefined;
  /** Sequence number of the last applied poll (older results are dropped). */
  appliedPoll = 0;
  private dirs = new Map<number, string>();
  private wanted = new Set<number>();
  private readonly slots = new Map<number, Slot>();
  private readonly retired = new Map<number, VersionStatus>();
  /** Demanded versions, last use and idle timers of an on-demand model (see on-demand-state.ts). */
  readonly onDemand: OnDemandState;

  constructor(
    readonly name: string,
    private readonly deps: ModelVersionsDeps,
  ) {
    this.onDemand = new OnDemandState(name, deps.clock, {
      evict: (version, reason) => this.evict(version, reason),
      emit: (event) => deps.residency?.(event),
    });
  }

  /** True when the config says `load_on_demand`. */
  get loadsOnDemand(): boolean {
    return this.config?.residency?.loadOnDemand === true;
  }

  /** Replaces the on-disk version list (a successful poll, or [] on a new base path). */
  setVersionDirs(dirs: readonly VersionDir[]): void {
    this.dirs = new Map(dirs.map((d) => [d.version, d.path]));
  }

  /** No live harness left (everything unloaded or retired). */
  idle(): boolean {
    return this.slots.size === 0;
  }

  /** Every wanted version is AVAILABLE or failed (vacuously true for a removed model). */
  settled(): boolean {
    if (this.config === undefined) return true;
    for (const version of this.wanted) {
      const state = this.slots.get(version)?.harness.state;
      if (state === 'available' || state === 'error' || this.waitsForDemand(version)) continue;
      return false;
    }
    return true;
  }

  /**
   * True while the requested version (or, for `undefined`, any version when none is
   * AVAILABLE) is still on its way: not yet polled, START, LOADING or retrying.
   */
  loading(version: number | undefined): boolean {
    if (this.config === undefined) return false;
    if (version !== undefined) {
      const state = this.slots.get(version)?.harness.state;
      return state === 'new' || state === 'loading' || state === 'retrying';
    }
    if (this.appliedPoll === 0 && this.sourceError === undefined) return true;
    for (const slot of this.slots.values()) {
      const state = slot.harness.state;
      if (state === 'new' || state === 'loading' || state === 'retrying') return true;
    }
    return false;
  }

  /** The highest AVAILABLE version, without building the list (the per-request path). */
  latestAvailable(): number | undefined {
    let latest: number | undefined;
    for (const slot of this.slots.values()) {
      const h = slot.harness;
      if (h.state === 'available' && (latest === undefined || h.version > latest)) latest = h.version;
    }
    return latest;
  }

  /** AVAILABLE versions, highest first. */
  available(): number[] {
    return [...this.slots.values()]
      .filter((s) => s.harness.state === 'available')
      .map((s) => s.harness.version)
      .sort((a, b) => b - a);
  }

  /**
   * Why this model is not served as its config asks, once settled; undefined when it is
   * (and for a removed model). In order: the base path could not be read and no version is
   * AVAILABLE (the source's NOT_FOUND); a wanted version failed to load (its load error);
   * no version is wanted or AVAILABLE (NOT_FOUND); a label names a version that is not
   * AVAILABLE (FAILED_PRECONDITION, as TF Serving's ServerCore refuses such a label).
   */
  loadError(): ServingError | undefined {
    const config = this.config;
    if (config === undefined) return undefined;
    const available = new Set(this.available());
    if (this.sourceError !== undefined && available.size === 0) return this.sourceError;
    for (const version of [...this.wanted].sort((a, b) => b - a)) {
      const harness = this.slots.get(version)?.harness;
      if (harness?.state !== 'error') continue;
      const { errorCode, errorMessage } = harness.status();
      const code: ErrorCode = errorCode in ERROR_CODES ? (errorCode as ErrorCode) : 'UNKNOWN';
      return new ServingError(code, errorMessage);
    }
    if (available.size === 0 && this.wanted.size === 0) {
      return new ServingError(
        'NOT_FOUND',
        `No versions of servable ${this.name} found under base path ${config.basePath}`,
      );
    }
    for (const [label, version] of Object.entries(config.versionLabels)) {
      if (available.has(version)) continue;
      return new ServingError(
        'FAILED_PRECONDITION',
        `Request to assign label ${label} to version ${version} of model ${this.name}, which is not currently available for inference`,
      );
    }
    return undefined;
  }

  /** All known versions' statuses, highest first; a live harness wins over a retired record. */
  statuses(): VersionStatus[] {
    const merged = new Map(this.retired);
    for (const [v, slot] of this.slots) merged.set(v, slot.harness.status());
    return [...merged.values()].sort((a, b) => b.version - a.version);
  }

  /** See ServableManager.acquire. */
  acquire(selector: VersionSelector): ServableHandle {
    const label = selector.kind === 'label' ? selector.label : undefined;
    const version =
      selector.kind === 'label'
        ? labelVersion(this.config === undefined ? undefined : this.labels, selector.label)
        : selector.kind === 'version'
          ? selector.version
          : undefined;
    if (this.config === undefined) throw servableNotFound(this.name, version, label);
    const chosen = version ?? this.latestAvailable();
    const slot = chosen === undefined ? undefined : this.slots.get(chosen);
    const loaded = slot?.harness.state === 'available' ? slot.harness.loaded : undefined;
    if (slot === undefined || loaded === undefined || slot.plan === undefined) {
      if (this.loading(version)) throw servableLoading(this.name, version);
      throw servableNotFound(this.name, version, label);
    }
    slot.refs++;
    // Last use and idle timers only matter to on-demand models (eviction); others skip the
    // clock reads and map updates on every request.
    const onDemand = this.loadsOnDemand;
    if (onDemand) this.onDemand.used(slot.harness.version, slot.refs);
    let released = false;
    return {
      name: this.name,
      version: slot.harness.version,
      platform: loaded.platform,
      signature: loaded.signature,
      plan: slot.plan,
      key: loaded.key,
      release: () => {
        if (released) return;
        released = true;
        slot.refs--;
        if (slot.refs === 0 && slot.harness.state === 'quiescing') void slot.harness.unload();
        if (onDemand && slot.harness.state === 'available')
          this.onDemand.released(slot.harness.version, slot.refs, this.idleMs());
      },
    };
  }

  /** Applies transition-policy actions until the policy has none left. Synchronous. */
  reconcile(): void {
    const config = this.config;
    this.wanted = new Set(config ? wantedVersions(config.versionPolicy, [...this.dirs.keys()]) : []);
    for (const [version, slot] of this.slots) {
      const wanted = this.wanted.has(version);
      const state = slot.harness.state;
      if (!wanted && (state === 'new' || state === 'retrying' || state === 'loading')) slot.harness.cancel();
      // A failed version stays (and is not retried) while wanted; an unloaded one is replaced.
      const after = slot.harness.state;
      if (after === 'disabled' || (after === 'error' && !wanted)) this.retire(slot);
    }
    if (config !== undefined) {
      for (const version of this.wanted) if (!this.slots.has(version)) this.addSlot(config, version);
    }
    const policy = config?.transitionPolicy ? TRANSITION_POLICIES[config.transitionPolicy] : this.deps.policy;
    for (;;) {
      // An on-demand version not yet asked for is not the policy's to load.
      const live = [...this.slots.values()].filter((s) => !this.waitsForDemand(s.harness.version));
      const snapshot = live.map((s) => ({
        version: s.harness.version,
        state: s.harness.versionState,
        wanted: this.wanted.has(s.harness.version),
      }));
      const action = policy(snapshot);
      if (action === undefined) return;
      const slot = this.slots.get(action.version)!;
      if (action.kind === 'load') {
        void slot.harness.load();
      } else {
        slot.harness.quiesce();
        if (slot.refs === 0) void slot.harness.unload();
      }
    }
  }

  /**
   * On-demand: asks for the version `selector` names (latest: the highest wanted) to be loaded
   * and returns its number, or undefined when this is not an on-demand model or the selector
   * names no wanted version (the caller then reports NOT_FOUND). A version whose last load
   * failed gets a fresh harness, so a budget that has freed up since, or a fixed file, is tried
   * again. Throws INVALID_ARGUMENT for an unknown label.
   */
  demand(selector: VersionSelector): number | undefined {
    const config = this.config;
    if (config === undefined || !this.loadsOnDemand) return undefined;
    const version =
      selector.kind === 'version'
        ? selector.version
        : selector.kind === 'label'
          ? labelVersion(this.labels, selector.label)
          : Math.max(-1, ...this.wanted);
    if (!this.wanted.has(version)) return undefined;
    const slot = this.slots.get(version);
    if (slot?.harness.state === 'error') {
      this.retire(slot);
      this.addSlot(config, version);
    }
    this.onDemand.demand(version);
    this.deps.changed(this);
    return version;
  }

  /** The directory of a version on disk (last poll); undefined when not there. */
  versionDir(version: number): string | undefined {
    return this.dirs.get(version);
  }

  /** Whether the version policy wants `version` served. */
  wants(version: number): boolean {
    return this.wanted.has(version);
  }

  /** The highest wanted version (what `latest` should serve), or undefined. */
  latestWanted(): number | undefined {
    return this.wanted.size === 0 ? undefined : Math.max(...this.wanted);
  }

  /** Internal state of a version's live harness; undefined when it has none. */
  versionState(version: number): HarnessState | undefined {
    return this.slots.get(version)?.harness.state;
  }

  /** The error of a version in `error`, as its status reports it. */
  versionError(version: number): ServingError | undefined {
    const harness = this.slots.get(version)?.harness;
    return harness?.state === 'error' ? harness.error : undefined;
  }

  /**
   * On-demand versions that may be unloaded now: AVAILABLE with no handle held (nothing queued
   * or running), with their loader key and last use.
   */
  evictable(): { version: number; key: string; lastUsed: number }[] {
    if (!this.loadsOnDemand) return [];
    const out: { version: number; key: string; lastUsed: number }[] = [];
    for (const slot of this.slots.values()) {
      const loaded = slot.harness.loaded;
      if (slot.harness.state !== 'available' || slot.refs > 0 || loaded === undefined) continue;
      out.push({
        version: slot.harness.version,
        key: loaded.key,
        lastUsed: this.onDemand.lastUsed(slot.harness.version),
      });
    }
    return out;
  }

  /**
   * Unloads an evictable version (see evictable()); resolves once it is unloaded, undefined
   * (nothing done) when it is not evictable now. The version goes back to START, to be loaded
   * again by its next request.
   */
  evict(version: number, reason: 'lru' | 'idle'): Promise<void> | undefined {
    const slot = this.slots.get(version);
    if (!this.loadsOnDemand || slot?.harness.state !== 'available' || slot.refs > 0) return undefined;
    this.onDemand.evicted(version, reason);
    slot.harness.quiesce();
    return slot.harness.unload();
  }

  private idleMs(): number {
    return this.loadsOnDemand ? (this.config?.residency?.idleUnloadSeconds ?? 0) * 1000 : 0;
  }

  /** An on-demand version still in START that no request has asked for. */
  private waitsForDemand(version: number): boolean {
    return (
      this.loadsOnDemand &&
      this.slots.get(version)?.harness.state === 'new' &&
      !this.onDemand.isDemanded(version)
    );
  }

  private addSlot(config: ModelConfig, version: number): void {
    const dir = this.dirs.get(version)!;
    const { loader, clock, logger } = this.deps;
    const harness = new LoaderHarness({
      model: this.name,
      version,
      load: () => loader.load(config, version, dir),
      unload: (loaded) => loader.unload(config, version, loaded),
      loadRetries: config.loadRetries,
      loadRetryIntervalMs: config.loadRetryIntervalMs,
      clock,
      logger,
      onTransition: (h, from) => this.onTransition(h, from),
    });
    this.slots.set(version, { harness, refs: 0 });
    this.retired.delete(version);
    this.deps.emit({ model: this.name, version, state: 'START' });
  }

  private retire(slot: Slot): void {
    this.slots.delete(slot.harness.version);
    this.retired.set(slot.harness.version, slot.harness.status());
  }

  private onTransition(harness: LoaderHarness, from: HarnessState): void {
    const state = harness.versionState;
    const slot = this.slots.get(harness.version);
    const loaded = harness.loaded;
    if (harness.state === 'available' && slot?.harness === harness && loaded !== undefined)
      slot.plan = servingPlan(loaded.platform, loaded.signature);
    if (PUBLIC_STATE[from] !== state) {
      const { errorCode, errorMessage } = harness.status();
      const failed = errorCode !== 'OK';
      const { loadMillis } = harness;
      this.deps.emit({
        model: this.name,
        version: harness.version,
        state,
        ...(state === 'AVAILABLE' ? { loadMillis, memoryBytes: harness.loaded?.memoryBytes } : {}),
        ...(failed ? { errorCode, errorMessage } : {}),
      });
      if (state === 'AVAILABLE') this.onDemand.loaded(harness.version, this.idleMs());
      else this.onDemand.notResident(harness.version, failed);
      if (state === 'AVAILABLE' || (state === 'END' && !failed)) {
        this.deps.logger.info(
          { model: this.name, version: harness.version, state, load_ms: loadMillis },
          'model version',
        );
      }
    }
    this.deps.changed(this);
  }
}

import type { Clock, TimerHandle } from '../../core/clock.js';

/** What on-demand residency reports, for metrics: one per request, load and eviction. */
export type ResidencyEvent =
  | { readonly kind: 'hit' | 'miss'; readonly model: string; readonly version: number }
  | {
      readonly kind: 'evict';
      readonly model: string;
      readonly version: number;
      readonly reason: 'lru' | 'idle';
    }
  | {
      readonly kind: 'cold-start';
      readonly model: string;
      readonly version: number;
      readonly millis: number;
    };

export interface OnDemandHooks {
  /** Unloads the version if it is still evictable (ModelVersions.evict). */
  readonly evict: (version: number, reason: 'idle') => Promise<void> | undefined;
  readonly emit: (event: ResidencyEvent) => void;
}

/**
 * The residency bookkeeping of one on-demand model, owned by its ModelVersions: which versions
 * a request has asked to be loaded, when each was last used (the LRU order) and the idle-unload
 * timers. Timers do not keep the process alive. Pinned models carry one too, unused.
 */
export class OnDemandState {
  private readonly demanded = new Set<number>();
  /** When the pending cold load of a version was first asked for (cold-start latency). */
  private readonly demandedAt = new Map<number, number>();
  private readonly lastUse = new Map<number, number>();
  private readonly idleTimers = new Map<number, TimerHandle>();

  constructor(
    private readonly model: string,
    private readonly clock: Clock,
    private readonly hooks: OnDemandHooks,
  ) {}

  /** Marks a version as asked for; false when it already was. */
  demand(version: number): boolean {
    if (this.demanded.has(version)) return false;
    this.demanded.add(version);
    if (!this.demandedAt.has(version)) this.demandedAt.set(version, this.clock.now());
    return true;
  }

  isDemanded(version: number): boolean {
    return this.demanded.has(version);
  }

  /** Last acquire or release (or load) of the version; 0 when never. */
  lastUsed(version: number): number {
    return this.lastUse.get(version) ?? 0;
  }

  /** A handle was taken: the version is in use, no idle unload. */
  used(version: number, _refs: number): void {
    this.lastUse.set(version, this.clock.now());
    this.clearIdle(version);
  }

  /** A handle was released; the idle countdown starts when it was the last one. */
  released(version: number, refs: number, idleMs: number): void {
    this.lastUse.set(version, this.clock.now());
    if (refs === 0) this.armIdle(version, idleMs);
  }

  /** The version became AVAILABLE: it counts as used now (a fresh load is not the LRU victim). */
  loaded(version: number, idleMs: number): void {
    const now = this.clock.now();
    this.lastUse.set(version, now);
    const asked = this.demandedAt.get(version);
    this.demandedAt.delete(version);
    if (asked !== undefined)
      this.hooks.emit({ kind: 'cold-start', model: this.model, version, millis: now - asked });
    this.armIdle(version, idleMs);
  }

  /**
   * The version left AVAILABLE (or failed). Its demand stays: a request may have asked for it
   * again while it was unloading, and the fresh harness that replaces it must then load.
   */
  notResident(version: number, failed: boolean): void {
    this.clearIdle(version);
    if (failed) this.demandedAt.delete(version);
  }

  /** An eviction starts: its next request must ask again. */
  evicted(version: number, reason: 'lru' | 'idle'): void {
    this.demanded.delete(version);
    this.clearIdle(version);
    this.hooks.emit({ kind: 'evict', model: this.model, version, reason });
  }

  private armIdle(version: number, idleMs: number): void {
    this.clearIdle(version);
    if (!(idleMs > 0)) return;
    const timer = this.clock.setTimer(() => {
      this.idleTimers.delete(version);
      void this.hooks.evict(version, 'idle');
    }, idleMs);
    (timer as { unref?: () => void } | undefined)?.unref?.();
    this.idleTimers.set(version, timer);
  }

  private clearIdle(version: number): void {
    const timer = this.idleTimers.get(version);
    if (timer === undefined) return;
    this.clock.clearTimer(timer);
    this.idleTimers.delete(version);
  }
}

import type { Clock, TimerHandle } from '../../core/clock.js';
import { ServingError } from '../../core/errors.js';
import type { VersionState, VersionStatus } from '../../core/version-status.js';
import { type LoadedVersion, loadError } from './loader.js';
import { type LifecycleLogger, silentLogger } from './logger.js';

/**
 * Internal states of one version (TF Serving's LoaderHarness states, condensed).
 * `retrying`: a load failed and the next attempt waits for its interval.
 * `quiescing`: unload requested, waiting for the version's handles to be released.
 * `disabled`: unloaded (or never loaded because no longer wanted). `error`: load failed
 * for good (or the unload failed).
 */
export type HarnessState =
  | 'new'
  | 'loading'
  | 'retrying'
  | 'available'
  | 'quiescing'
  | 'unloading'
  | 'disabled'
  | 'error';

/** What the status APIs show for each internal state. */
export const PUBLIC_STATE: Readonly<Record<HarnessState, VersionState>> = {
  new: 'START',
  loading: 'LOADING',
  retrying: 'LOADING',
  available: 'AVAILABLE',
  quiescing: 'UNLOADING',
  unloading: 'UNLOADING',
  disabled: 'END',
  error: 'END',
};

/** The legal transitions; anything else is a bug in the caller. */
export const LEGAL_TRANSITIONS: Readonly<Record<HarnessState, readonly HarnessState[]>> = {
  new: ['loading', 'disabled'],
  loading: ['available', 'retrying', 'error'],
  retrying: ['loading', 'error'],
  available: ['quiescing'],
  quiescing: ['unloading'],
  unloading: ['disabled', 'error'],
  disabled: [],
  error: [],
};

/** Throws INTERNAL unless `from → to` is a legal transition. */
export function assertTransition(version: number, from: HarnessState, to: HarnessState): void {
  if (!LEGAL_TRANSITIONS[from].includes(to)) {
    throw new ServingError(
      'INTERNAL',
      `Illegal version state transition for version ${version}: ${from} -> ${to}`,
    );
  }
}

export interface HarnessOptions {
  readonly model: string;
  readonly version: number;
  /** One load attempt; the harness calls it again for each retry. */
  readonly load: () => Promise<LoadedVersion>;
  readonly unload: (loaded: LoadedVersion) => Promise<void>;
  /** Attempts after the first failure (TF Serving's max_num_load_retries). */
  readonly loadRetries: number;
  readonly loadRetryIntervalMs: number;
  readonly clock: Clock;
  /** Called synchronously after every transition. Must not throw. */
  readonly onTransition?: (harness: LoaderHarness, from: HarnessState) => void;
  readonly logger?: LifecycleLogger;
}

/**
 * The per-version state machine (TF Serving's LoaderHarness), owned by the manager:
 * new → loading → available → quiescing → unloading → disabled, or
 * loading → retrying → loading ... → error. Every method throws an INTERNAL ServingError,
 * synchronously, when called in a state it is not legal in. The harness knows nothing of
 * handles: the manager calls `unload()` once the version's handles are all released.
 */
export class LoaderHarness {
  readonly model: string;
  readonly version: number;
  private current: HarnessState = 'new';
  private lastError: ServingError | undefined;
  private loadedVersion: LoadedVersion | undefined;
  private attemptCount = 0;
  private lastLoadMillis: number | undefined;
  private cancelRequested = false;
  private retryTimer: { handle: TimerHandle; resume: (go: boolean) => void } | undefined;
  private readonly logger: LifecycleLogger;

  constructor(private readonly options: HarnessOptions) {
    this.model = options.model;
    this.version = options.version;
    this.logger = options.logger ?? silentLogger;
  }

  get state(): HarnessState {
    return this.current;
  }

  get versionState(): VersionState {
    return PUBLIC_STATE[this.current];
  }

  /** The last load (or unload) error; kept after a successful retry only until it succeeds. */
  get error(): ServingError | undefined {
    return this.lastError;
  }

  /** Set while available, quiescing and unloading. */
  get loaded(): LoadedVersion | undefined {
    return this.loadedVersion;
  }

  /** Load attempts made so far. */
  get attempts(): number {
    return this.attemptCount;
  }

  /** Duration of the successful load attempt, in ms. */
  get loadMillis(): number | undefined {
    return this.lastLoadMillis;
  }

  /**
   * The public status. In error: the load error. While a failed load waits for its retry
   * (or retries): LOADING with the last error, its message saying which attempt failed, so
   * a version that keeps failing is visible before its retries run out.
   */
  status(): VersionStatus {
    const err = this.lastError;
    const failed = this.current === 'error' && err !== undefined;
    const retrying = (this.current === 'retrying' || this.current === 'loading') && err !== undefined;
    const total = this.options.loadRetries + 1;
    return {
      version: this.version,
      state: this.versionState,
      errorCode: failed || retrying ? err.code : 'OK',
      errorMessage: failed
        ? err.message
        : retrying
          ? `${err.message} (load attempt ${this.attemptCount - (this.current === 'loading' ? 1 : 0)} of ${total} failed; retrying)`
          : '',
    };
  }

  /**
   * new → loading. Attempts the load, retrying `loadRetries` times `loadRetryIntervalMs`
   * apart (but never after a `permanent` ServingError, e.g. a full memory budget), and resolves once the version is available or in error. Never rejects.
   */
  load(): Promise<void> {
    this.expect('load', 'new');
    this.move('loading');
    return this.runAttempts();
  }

  /**
   * Gives up on a version that is no longer wanted: new → disabled; retrying → error
   * (with the last load error). While a load attempt runs, no retry follows it; a success
   * still makes the version available (the manager then unloads it).
   */
  cancel(): void {
    if (this.current === 'loading') {
      this.cancelRequested = true;
      return;
    }
    if (this.current === 'retrying') {
      this.cancelRequested = true;
      const timer = this.retryTimer!;
      this.options.clock.clearTimer(timer.handle);
      this.move('error');
      timer.resume(false);
      return;
    }
    this.expect('cancel', 'new');
    this.move('disabled');
  }

  /** available → quiescing: no new handles; the manager waits for the held ones. */
  quiesce(): void {
    this.expect('quiesce', 'available');
    this.move('quiescing');
  }

  /** quiescing → unloading → disabled (or error if the loader fails). Never rejects. */
  unload(): Promise<void> {
    this.expect('unload', 'quiescing');
    this.move('unloading');
    return this.runUnload();
  }

  private async runAttempts(): Promise<void> {
    for (;;) {
      this.attemptCount++;
      const started = this.options.clock.now();
      try {
        const loaded = await this.options.load();
        this.loadedVersion = loaded;
        this.lastLoadMillis = this.options.clock.now() - started;
        this.lastError = undefined;
        this.move('available');
        return;
      } catch (err) {
        this.lastError = loadError(err);
      }
      const fields = {
        model: this.model,
        version: this.version,
        attempt: this.attemptCount,
        err: this.lastError,
      };
      if (this.cancelRequested || this.lastError?.permanent || this.attemptCount > this.options.loadRetries) {
        this.logger.error(fields, 'model version load failed');
        this.move('error');
        return;
      }
      this.logger.warn(
        { ...fields, retryInMs: this.options.loadRetryIntervalMs },
        'model version load failed, retrying',
      );
      this.move('retrying');
      // Cancelled while waiting: cancel() has already moved to error.
      if (!(await this.waitForRetry())) return;
      this.move('loading');
    }
  }

  /** Resolves true after the retry interval, false when cancelled first. */
  private waitForRetry(): Promise<boolean> {
    return new Promise((resolve) => {
      const resume = (go: boolean) => {
        this.retryTimer = undefined;
        resolve(go);
      };
      const handle = this.options.clock.setTimer(() => resume(true), this.options.loadRetryIntervalMs);
      this.retryTimer = { handle, resume };
    });
  }

  private async runUnload(): Promise<void> {
    try {
      await this.options.unload(this.loadedVersion!);
      this.loadedVersion = undefined;
      this.move('disabled');
    } catch (err) {
      this.lastError = loadError(err);
      this.loadedVersion = undefined;
      this.logger.error(
        { model: this.model, version: this.version, err: this.lastError },
        'model version unload failed',
      );
      this.move('error');
    }
  }

  /** Methods are events legal in one state only (a transition alone may be legal from several). */
  private expect(method: string, state: HarnessState): void {
    if (this.current !== state) {
      throw new ServingError(
        'INTERNAL',
        `Illegal ${method}() for version ${this.version} of ${this.model} in state ${this.current}`,
      );
    }
  }

  private move(to: HarnessState): void {
    const from = this.current;
    assertTransition(this.version, from, to);
    this.current = to;
    this.options.onTransition?.(this, from);
  }
}

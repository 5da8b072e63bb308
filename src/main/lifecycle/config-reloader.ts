import { sameValue } from '../config/config-diff.js';
import { ConfigError } from '../config/config-error.js';
import type { ServerConfig } from '../config/server-config.js';
import type { LifecycleLogger } from './logger.js';

/** What one reload did. */
export type ReloadOutcome = 'unchanged' | 'applied' | 'rejected' | 'failed';

export interface ConfigReloaderOptions {
  /** The config the server runs with now. */
  readonly current: ServerConfig;
  /**
   * Reads the config again (for the CLI: the whole command line, so flags still win over the
   * YAML). Throws ConfigError naming every problem for an invalid edit.
   */
  readonly read: () => ServerConfig;
  /** Applies a changed config to the running server; a rejection is logged, not retried. */
  readonly apply: (next: ServerConfig, current: ServerConfig) => Promise<void>;
  /** Poll period in ms; 0 = no polling (reloads only when `reload` is called, e.g. on SIGHUP). */
  readonly intervalMs: number;
  readonly logger: LifecycleLogger;
  /** Names the config in log lines (the YAML file). */
  readonly source: string;
}

/**
 * Hot reload of the server config: every `intervalMs`, and whenever `reload()` is called
 * (SIGHUP), the config is read again and, when it differs from the running one, applied.
 * Reading again covers every file the config refers to (key files, batching parameters),
 * not only the YAML. An invalid edit is logged once with its path-naming problems and the
 * running config is kept (also when `apply` refuses it with a ConfigError before changing
 * anything); a valid one that fails while applying is logged and kept as the new baseline
 * (so it is not retried every poll). Reloads run one at a time, in order. Never
 * rejects.
 */
export class ConfigReloader {
  private current: ServerConfig;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** The last rejection logged, so an invalid file is not logged again every poll. */
  private lastRejection = '';

  constructor(private readonly options: ConfigReloaderOptions) {
    this.current = options.current;
  }

  /** The config the last successful reload applied (or the start-up one). */
  get config(): ServerConfig {
    return this.current;
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.reload('poll'), this.options.intervalMs);
    this.timer.unref();
  }

  /** Reads and applies the config now (after any reload in progress). */
  reload(trigger: 'poll' | 'signal' | 'request'): Promise<ReloadOutcome> {
    const run = this.chain.then(() => this.once(trigger));
    this.chain = run;
    return run;
  }

  /** Stops polling and waits for a reload in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  private async once(trigger: string): Promise<ReloadOutcome> {
    const { logger, source } = this.options;
    const reject = (err: unknown): ReloadOutcome => {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      const text = problems.join('\n');
      // A poll logs a bad file once; an explicit reload always answers.
      if (trigger !== 'poll' || text !== this.lastRejection) {
        logger.error({ source, trigger, problems }, 'config reload rejected; keeping the running config');
      }
      this.lastRejection = text;
      return 'rejected';
    };
    let next: ServerConfig;
    try {
      next = this.options.read();
    } catch (err) {
      return reject(err);
    }
    if (sameValue(next, this.current)) {
      this.lastRejection = '';
      if (trigger !== 'poll') logger.info({ source, trigger }, 'config reload: nothing changed');
      return 'unchanged';
    }
    const previous = this.current;
    this.current = next;
    try {
      await this.options.apply(next, previous);
    } catch (err) {
      // A ConfigError from apply: refused before anything changed (e.g. tenancy turned on).
      if (err instanceof ConfigError) {
        this.current = previous;
        return reject(err);
      }
      logger.error({ source, trigger, err: (err as Error).message }, 'config reload failed to apply');
      return 'failed';
    }
    this.lastRejection = '';
    logger.info({ source, trigger }, 'config reloaded');
    return 'applied';
  }
}

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ModelConfig } from './model-config.js';

/**
 * Re-reads a model list file every `intervalMs` and applies it when its text changed
 * (TF Serving's `--model_config_file_poll_wait_seconds`). A file that fails to parse or
 * validate, or whose reload fails, is logged and ignored: the models already served stay
 * as they are. Polling never rejects; `check()` itself rejects when `apply` does.
 */
export class ConfigWatcher {
  private timer: NodeJS.Timeout | undefined;
  private lastText: string;
  private running: Promise<void> | undefined;

  constructor(
    private readonly file: string,
    private readonly intervalMs: number,
    private readonly parse: (file: string) => ModelConfig[],
    private readonly apply: (models: readonly ModelConfig[]) => Promise<void>,
    private readonly logger: Logger,
  ) {
    this.lastText = this.read() ?? '';
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.check()
        .catch((err: unknown) => {
          // A failed reload must not reject unhandled (that would end the process): the
          // models already served keep serving, and the next changed text is tried again.
          this.logger.error(
            { file: this.file, err: err instanceof Error ? err.message : String(err) },
            'model config reload failed; keeping the current models',
          );
        })
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One poll; exposed so tests and the reload RPC can force a check. */
  async check(): Promise<void> {
    const text = this.read();
    if (text === undefined || text === this.lastText) return;
    this.lastText = text;
    let models: ModelConfig[];
    try {
      models = this.parse(this.file);
    } catch (err) {
      this.logger.error(
        { file: this.file, err: (err as Error).message },
        'model config file rejected; keeping the current models',
      );
      return;
    }
    this.logger.info(
      { file: this.file, models: models.map((m) => m.name) },
      'model config file changed; reloading',
    );
    await this.apply(models);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private read(): string | undefined {
    try {
      return readFileSync(this.file, 'utf8');
    } catch (err) {
      this.logger.warn({ file: this.file, err: (err as Error).message }, 'model config file unreadable');
      return undefined;
    }
  }
}

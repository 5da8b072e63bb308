import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Logger } from 'pino';
import { ConfigWatcher } from '../../../src/main/config/config-watcher.js';
import type { ModelConfig } from '../../../src/main/config/model-config.js';

/** A logger that records error lines (the watcher's only contract with it here). */
function recordingLogger(): { logger: Logger; errors: { obj: unknown; msg: string }[] } {
  const errors: { obj: unknown; msg: string }[] = [];
  const logger = {
    error: (obj: unknown, msg: string) => errors.push({ obj, msg }),
    warn: () => {},
    info: () => {},
  } as unknown as Logger;
  return { logger, errors };
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('ConfigWatcher', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-watcher-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('logs a failed reload and keeps polling instead of rejecting unhandled', async () => {
    const file = path.join(dir, 'models.config');
    writeFileSync(file, 'one');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const { logger, errors } = recordingLogger();
    const applied: string[] = [];
    const watcher = new ConfigWatcher(
      file,
      10,
      (f) => [{ name: path.basename(f) } as ModelConfig],
      async (models) => {
        applied.push(models[0].name);
        if (applied.length === 1) throw new Error('loader exploded');
      },
      logger,
    );
    try {
      watcher.start();
      writeFileSync(file, 'two');
      await waitFor(() => errors.length > 0, 'the failed reload to be logged');
      assert.equal(errors[0].msg, 'model config reload failed; keeping the current models');
      assert.deepEqual(errors[0].obj, { file, err: 'loader exploded' });
      // Still polling: the next change is applied.
      writeFileSync(file, 'three');
      await waitFor(() => applied.length === 2, 'the next change to be applied');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
      assert.equal(errors.length, 1);
    } finally {
      await watcher.stop();
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('check() itself still reports the failure to a direct caller', async () => {
    const file = path.join(dir, 'direct.config');
    writeFileSync(file, 'a');
    const { logger } = recordingLogger();
    const watcher = new ConfigWatcher(
      file,
      0,
      () => [],
      () => Promise.reject(new Error('nope')),
      logger,
    );
    writeFileSync(file, 'b');
    await assert.rejects(watcher.check(), /nope/);
  });
});

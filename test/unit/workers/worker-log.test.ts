import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { consoleLogger, setConsoleLogLevel } from '../../../src/workers/worker-log.js';

/** Runs `fn` and returns what it wrote to stdout. */
function captureStdout(fn: () => void): string {
  const original = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = original;
  }
  return out;
}

describe('worker log lines', () => {
  afterEach(() => setConsoleLogLevel(30));

  it('writes one pino-shaped JSON line per message at or above the level', () => {
    const out = captureStdout(() => consoleLogger.info('hello'));
    const line = JSON.parse(out.trimEnd()) as Record<string, unknown>;
    assert.equal(line.level, 30);
    assert.equal(line.msg, 'hello');
    assert.equal(line.thread, 'worker');
  });

  it('drops messages below the server log level', () => {
    setConsoleLogLevel(40);
    assert.equal(
      captureStdout(() => consoleLogger.info('quiet')),
      '',
    );
    assert.match(
      captureStdout(() => consoleLogger.warn('loud')),
      /"msg":"loud"/,
    );
    setConsoleLogLevel(Number.POSITIVE_INFINITY);
    assert.equal(
      captureStdout(() => consoleLogger.warn('silent')),
      '',
    );
  });
});

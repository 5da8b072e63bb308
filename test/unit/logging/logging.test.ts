import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromFlags, parseFlags } from '../../../src/main/config/flags.js';
import { AccessLogSampler } from '../../../src/main/logging/access-log.js';
import { createLogger } from '../../../src/main/logging/create-logger.js';
import { requestIdFrom } from '../../../src/main/logging/request-id.js';

describe('requestIdFrom', () => {
  it('keeps an acceptable client id and replaces a missing or unsafe one', () => {
    assert.equal(requestIdFrom('abc-123'), 'abc-123');
    assert.equal(requestIdFrom(['first', 'second']), 'first');
    assert.equal(requestIdFrom(Buffer.from('from-metadata')), 'from-metadata');
    for (const bad of [undefined, '', 'has space', 'line\nbreak', 'x'.repeat(129), 42]) {
      const id = requestIdFrom(bad);
      assert.match(id, /^[0-9a-f-]{36}$/, `for ${JSON.stringify(bad)}`);
    }
    assert.notEqual(requestIdFrom(undefined), requestIdFrom(undefined));
  });
});

describe('AccessLogSampler', () => {
  it('logs every failure and the given fraction of successes', () => {
    let r = 0;
    const sampler = new AccessLogSampler(0.25, () => r);
    r = 0.1;
    assert.equal(sampler.shouldLog(false), true);
    r = 0.3;
    assert.equal(sampler.shouldLog(false), false);
    assert.equal(sampler.shouldLog(true), true);
    assert.equal(new AccessLogSampler(0, () => 0).shouldLog(false), false);
    assert.equal(new AccessLogSampler(0).shouldLog(true), true);
    assert.equal(new AccessLogSampler(1, () => 0.999).shouldLog(false), true);
    assert.throws(() => new AccessLogSampler(1.5), RangeError);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with API keys redacted', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (s: string) => lines.push(s) });
    log.info({ req: { headers: { authorization: 'Bearer k1', 'x-api-key': 'k2', accept: '*/*' } } }, 'x');
    log.debug('not at info');
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]) as { service: string; req: { headers: Record<string, string> } };
    assert.equal(entry.service, 'tensorserve');
    assert.deepEqual(entry.req.headers, {
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      accept: '*/*',
    });
  });
});

describe('--log_level', () => {
  it('maps onto server.log_level and rejects unknown levels', () => {
    const flags = parseFlags(['--model_name=m', '--model_base_path=/tmp/m', '--log_level=debug']);
    assert.equal(configFromFlags(flags).logLevel, 'debug');
    assert.equal(
      configFromFlags(parseFlags(['--model_name=m', '--model_base_path=/tmp/m'])).logLevel,
      'info',
    );
    assert.throws(() => parseFlags(['--log_level=loud']), /--log_level must be one of/);
  });

  it('defaults the access log sample rate to 0.01', () => {
    const config = configFromFlags(parseFlags(['--model_name=m', '--model_base_path=/tmp/m']));
    assert.equal(config.accessLogSampleRate, 0.01);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { ConfigError } from '../../../src/main/config/config-error.js';
import { buildConfig } from '../../../src/main/config/load-config.js';
import {
  type RawTenancySection,
  resolveTenancy,
  sha256Hex,
  tenancySchemaProperties,
} from '../../../src/main/config/tenant-config.js';

const DIGEST = sha256Hex('from-config');

/** The problems a whole config (here only its tenancy keys) is rejected with. */
function configProblems(raw: Record<string, unknown>): readonly string[] {
  try {
    buildConfig(raw, 'test', '/b');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

/** The problems a config is rejected with. */
function problems(raw: RawTenancySection, options = {}): readonly string[] {
  try {
    resolveTenancy(raw, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('resolveTenancy', () => {
  it('is off without tenants', () => {
    const t = resolveTenancy({});
    assert.equal(t.enabled, false);
    assert.deepEqual(t.tenants, []);
  });

  it('hashes env and file keys and keeps sha256 digests, dropping the clear text', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tenancy-cfg-'));
    try {
      await writeFile(path.join(dir, 'acme.key'), 'file-secret\n');
      const t = resolveTenancy(
        {
          admin_keys: [{ env: 'ADMIN_KEY' }],
          tenants: [
            {
              id: 'acme',
              api_keys: [{ env: 'ACME_KEY' }, { file: 'acme.key' }, { sha256: DIGEST.toUpperCase() }],
              weight: 3,
              shared_models: ['mnist', 'mnist'],
              quotas: { requests_per_second: 2.5, max_queued: 10, max_in_flight: 2, max_memory_bytes: 1024 },
            },
          ],
        },
        { env: { ACME_KEY: ' env-secret ', ADMIN_KEY: 'admin-secret' }, baseDir: dir },
      );
      assert.equal(t.enabled, true);
      assert.deepEqual(t.adminKeyDigests, [sha256Hex('admin-secret')]);
      const acme = t.tenants[0];
      assert.deepEqual(acme.apiKeyDigests, [sha256Hex('env-secret'), sha256Hex('file-secret'), DIGEST]);
      assert.equal(acme.weight, 3);
      assert.deepEqual(acme.sharedModels, ['mnist']);
      assert.deepEqual(acme.quotas, {
        requestsPerSecond: 2.5,
        burst: 3,
        maxQueued: 10,
        maxInFlight: 2,
        maxMemoryBytes: 1024,
      });
      const text = JSON.stringify(t);
      for (const secret of ['env-secret', 'file-secret', 'admin-secret']) assert.ok(!text.includes(secret));
      assert.ok(Object.isFrozen(t) && Object.isFrozen(acme.quotas) && Object.isFrozen(acme.apiKeyDigests));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('defaults weight, quotas and burst', () => {
    const t = resolveTenancy({ tenants: [{ id: 'a', client_cert_subjects: ['a-cn'] }] });
    assert.equal(t.tenants[0].weight, 1);
    assert.deepEqual(t.tenants[0].quotas, {
      requestsPerSecond: 0,
      burst: 0,
      maxQueued: 0,
      maxInFlight: 0,
      maxMemoryBytes: 0,
    });
    assert.deepEqual(t.tenants[0].clientCertSubjects, ['a-cn']);
  });

  it('rejects clear-text keys, saying what to write instead, without echoing them', () => {
    const p = problems({
      tenants: [{ id: 'a', api_keys: ['plain-secret' as never, { key: 'other-secret' } as never] }],
      admin_keys: [{ value: 'admin-plain' }],
    });
    assert.equal(p.length, 3);
    assert.match(p[0], /^admin_keys\[0\] has unknown key\(s\) 'value'; clear-text API keys are not allowed/);
    assert.match(
      p[1],
      /^tenants\[0\]\.api_keys\[0\] is a clear-text API key, which is not allowed in config: use/,
    );
    assert.match(p[2], /^tenants\[0\]\.api_keys\[1\] has unknown key\(s\) 'key'/);
    for (const line of p) {
      assert.match(line, /sha256.*env.*file/);
      assert.ok(!/secret|admin-plain/.test(line));
    }
  });

  it('reports unreadable, unset and malformed key references', () => {
    const p = problems(
      {
        tenants: [
          {
            id: 'a',
            api_keys: [
              { env: 'NOPE' },
              { file: '/no/such/file.key' },
              { sha256: 'abc' },
              { env: 'X', file: 'y' } as never,
            ],
          },
        ],
      },
      { env: {} },
    );
    assert.deepEqual(p, [
      'tenants[0].api_keys[0]: environment variable NOPE is not set or empty',
      'tenants[0].api_keys[1]: cannot read key file /no/such/file.key: ENOENT',
      'tenants[0].api_keys[2].sha256 must be 64 hex digits (a SHA-256 digest)',
      'tenants[0].api_keys[3] must have exactly one of sha256, env, file',
    ]);
  });

  it('reports an empty key file', () => {
    const p = problems(
      { tenants: [{ id: 'a', api_keys: [{ file: 'k' }] }] },
      { readFile: () => ' \n', baseDir: '/etc/ts' },
    );
    assert.deepEqual(p, ['tenants[0].api_keys[0]: key file /etc/ts/k is empty']);
  });

  it('rejects ambiguous or incomplete tenants', () => {
    const p = problems({
      admin_keys: [{ sha256: DIGEST }],
      tenants: [
        { id: 'a', api_keys: [{ sha256: DIGEST }], client_cert_subjects: ['cn'] },
        { id: 'a', client_cert_subjects: ['cn'] },
        { id: 'c' },
        { id: 'd', api_keys: [{ sha256: DIGEST }], quotas: { burst: 5 } },
      ],
    });
    assert.deepEqual(p, [
      "tenants[2] (tenant 'c') needs at least one api_keys entry or client_cert_subjects entry",
      'tenants[3].quotas.burst needs quotas.requests_per_second',
      "tenant 'a' shares an API key with admin_keys",
      "tenants has duplicate id 'a'",
      "tenant 'd' shares an API key with a",
    ]);
  });

  it('rejects admin keys without tenants', () => {
    assert.match(problems({ admin_keys: [{ sha256: DIGEST }] })[0], /need a tenants section/);
  });

  it('validates the structure with the config schema, once, before resolving', () => {
    const p = configProblems({
      tenants: [
        { id: 'a/b', wieght: 2 },
        { id: 'x', quotas: { max_queued: -1 } },
      ],
    });
    assert.deepEqual(p, [
      "tenants[0] has unknown key 'wieght'",
      'tenants[0].id must match pattern "^[^/:\\s]+$"',
      'tenants[1].quotas.max_queued must be >= 0',
    ]);
  });

  it('exports a schema fragment that embeds in a draft-07 config schema', () => {
    const validate = new Ajv({ strict: false, useDefaults: true }).compile({
      type: 'object',
      additionalProperties: false,
      properties: { models: { type: 'array' }, ...tenancySchemaProperties },
    });
    const cfg: Record<string, unknown> = { models: [] };
    assert.equal(validate(cfg), true);
    assert.deepEqual(cfg.tenants, []);
    assert.equal(
      validate({ tenants: [{ id: 'a', api_keys: [{ env: 'K' }], quotas: { burst: 1.5 } }] }),
      false,
    );
  });
});

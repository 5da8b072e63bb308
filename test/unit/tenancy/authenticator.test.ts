import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from '../../../src/core/errors.js';
import { resolveTenancy, sha256Hex, TENANCY_OFF } from '../../../src/main/config/tenant-config.js';
import { Authenticator, OPEN_IDENTITY } from '../../../src/main/tenancy/authenticator.js';

const ACME_KEY = 'acme-secret-key-1';
const BETA_KEY = 'beta-secret-key-2';
const ADMIN_KEY = 'admin-secret-key-3';

const tenancy = resolveTenancy(
  {
    admin_keys: [{ env: 'ADMIN' }],
    admin_client_cert_subjects: ['ops'],
    tenants: [
      { id: 'acme', api_keys: [{ sha256: sha256Hex(ACME_KEY) }], client_cert_subjects: ['acme-client'] },
      { id: 'beta', api_keys: [{ env: 'BETA' }] },
    ],
  },
  { env: { ADMIN: ADMIN_KEY, BETA: BETA_KEY } },
);
const auth = new Authenticator(tenancy);

function unauthenticated(message: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ServingError);
    assert.equal(err.code, 'UNAUTHENTICATED');
    assert.equal(err.httpStatus, 401);
    assert.equal(err.grpcCode, 16);
    assert.equal(err.message, message);
    return true;
  };
}

describe('Authenticator', () => {
  it('is open when tenancy is off', () => {
    const open = new Authenticator(TENANCY_OFF);
    assert.equal(open.enabled, false);
    assert.deepEqual(open.authenticate({}), { tenant: undefined, admin: true });
    assert.equal(open.authenticate({ authorization: 'Bearer whatever' }), OPEN_IDENTITY);
  });

  it('rejects a call without credentials', () => {
    assert.equal(auth.enabled, true);
    assert.throws(() => auth.authenticate({}), unauthenticated('Missing API key'));
    assert.throws(
      () => auth.authenticate({ authorization: '', apiKey: '  ' }),
      unauthenticated('Missing API key'),
    );
  });

  it('rejects a wrong key without echoing it', () => {
    for (const creds of [
      { authorization: 'Bearer nope-123' },
      { apiKey: 'nope-123' },
      { authorization: 'Bearer ' },
    ]) {
      assert.throws(() => auth.authenticate(creds), unauthenticated('Invalid API key'));
    }
  });

  it('rejects an Authorization header that is not a Bearer token', () => {
    assert.throws(
      () => auth.authenticate({ authorization: `Basic ${ACME_KEY}` }),
      unauthenticated('Invalid API key'),
    );
    assert.throws(() => auth.authenticate({ authorization: ACME_KEY }), unauthenticated('Invalid API key'));
  });

  it('accepts the right key as a Bearer token (any scheme case) or x-api-key', () => {
    const acme = { tenant: 'acme', admin: false };
    assert.deepEqual(auth.authenticate({ authorization: `Bearer ${ACME_KEY}` }), acme);
    assert.deepEqual(auth.authenticate({ authorization: `bearer  ${ACME_KEY} ` }), acme);
    assert.deepEqual(auth.authenticate({ apiKey: ACME_KEY }), acme);
    assert.deepEqual(auth.authenticate({ apiKey: BETA_KEY }), { tenant: 'beta', admin: false });
  });

  it('prefers the Bearer token over x-api-key, and x-api-key over a non-Bearer header', () => {
    assert.equal(auth.authenticate({ authorization: `Bearer ${ACME_KEY}`, apiKey: BETA_KEY }).tenant, 'acme');
    assert.equal(auth.authenticate({ authorization: 'Basic abc', apiKey: BETA_KEY }).tenant, 'beta');
  });

  it('recognizes the admin key', () => {
    assert.deepEqual(auth.authenticate({ authorization: `Bearer ${ADMIN_KEY}` }), {
      tenant: undefined,
      admin: true,
    });
  });

  it('maps a client certificate CN to its tenant or to admin', () => {
    assert.deepEqual(auth.authenticate({ clientCertCN: 'acme-client' }), { tenant: 'acme', admin: false });
    assert.deepEqual(auth.authenticate({ clientCertCN: 'ops' }), { tenant: undefined, admin: true });
    assert.throws(
      () => auth.authenticate({ clientCertCN: 'stranger' }),
      unauthenticated('Client certificate is not authorized'),
    );
  });

  it('lets a presented key decide even when a certificate is present', () => {
    assert.equal(auth.authenticate({ apiKey: BETA_KEY, clientCertCN: 'acme-client' }).tenant, 'beta');
    assert.throws(
      () => auth.authenticate({ apiKey: 'wrong', clientCertCN: 'acme-client' }),
      unauthenticated('Invalid API key'),
    );
  });
});

describe('Authenticator.authorizeScrape', () => {
  const SCRAPE_KEY = 'prometheus-scrape-key';
  const withScrape = new Authenticator(
    resolveTenancy({
      admin_keys: [{ sha256: sha256Hex(ADMIN_KEY) }],
      metrics_keys: [{ sha256: sha256Hex(SCRAPE_KEY) }],
      tenants: [{ id: 'acme', api_keys: [{ sha256: sha256Hex(ACME_KEY) }] }],
    }),
  );
  const code = (c: string) => (err: unknown) => err instanceof ServingError && err.code === c;

  it('is open when tenancy is off', () => {
    const open = new Authenticator(TENANCY_OFF);
    assert.equal(open.authorizeScrape({}), 'open');
    assert.equal(open.authorizeScrape({ apiKey: 'anything' }), 'open');
  });

  it('admits the admin and a metrics key, refuses a tenant (403) and no or a wrong key (401)', () => {
    assert.equal(withScrape.authorizeScrape({ authorization: `Bearer ${ADMIN_KEY}` }), 'admin');
    assert.equal(withScrape.authorizeScrape({ apiKey: SCRAPE_KEY }), 'metrics-key');
    assert.equal(withScrape.authorizeScrape({ authorization: `Bearer ${SCRAPE_KEY}` }), 'metrics-key');
    assert.throws(() => withScrape.authorizeScrape({ apiKey: ACME_KEY }), code('PERMISSION_DENIED'));
    assert.throws(() => withScrape.authorizeScrape({}), code('UNAUTHENTICATED'));
    assert.throws(() => withScrape.authorizeScrape({ apiKey: 'nope' }), code('UNAUTHENTICATED'));
  });

  it('metrics keys open nothing else', () => {
    assert.throws(() => withScrape.authenticate({ apiKey: SCRAPE_KEY }), code('UNAUTHENTICATED'));
  });

  it('rejects a metrics key that is also a tenant key, and metrics keys without tenants', () => {
    assert.throws(
      () =>
        resolveTenancy({
          metrics_keys: [{ sha256: sha256Hex(ACME_KEY) }],
          tenants: [{ id: 'acme', api_keys: [{ sha256: sha256Hex(ACME_KEY) }] }],
        }),
      /metrics_keys shares an API key with acme/,
    );
    assert.throws(
      () => resolveTenancy({ metrics_keys: [{ sha256: sha256Hex(SCRAPE_KEY) }] }),
      /metrics_keys need/,
    );
  });
});

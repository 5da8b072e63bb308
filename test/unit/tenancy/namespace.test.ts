import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallerIdentity } from '../../../src/core/caller-identity.js';
import { ServingError } from '../../../src/core/errors.js';
import type { VersionSelector } from '../../../src/core/version-selector.js';
import type { ModelConfig } from '../../../src/main/config/model-config.js';
import {
  checkModelTenancy,
  internalModelName,
  splitInternalName,
} from '../../../src/main/config/model-names.js';
import { resolveTenancy, sha256Hex, TENANCY_OFF } from '../../../src/main/config/tenant-config.js';
import { ModelNamespace } from '../../../src/main/tenancy/namespace.js';

const tenancy = resolveTenancy({
  tenants: [
    { id: 'acme', api_keys: [{ sha256: sha256Hex('a') }], shared_models: ['mnist'] },
    { id: 'beta', api_keys: [{ sha256: sha256Hex('b') }] },
    { id: 'gamma', api_keys: [{ sha256: sha256Hex('c') }], shared_models: ['*'] },
  ],
});
const ns = new ModelNamespace(tenancy);
const configured = new Set(['acme/fraud', 'beta/fraud', 'beta/churn', 'mnist', 'resnet', 'acme/mnist2']);
const exists = (name: string) => configured.has(name);

const acme: CallerIdentity = { tenant: 'acme', admin: false };
const beta: CallerIdentity = { tenant: 'beta', admin: false };
const gamma: CallerIdentity = { tenant: 'gamma', admin: false };
const admin: CallerIdentity = { tenant: undefined, admin: true };

/** What the caller gets back: the internal name, or the error code and text. */
function outcome(caller: CallerIdentity | undefined, name: string, selector?: VersionSelector) {
  try {
    return ns.resolve(caller, name, exists, selector);
  } catch (err) {
    assert.ok(err instanceof ServingError);
    return `${err.code}: ${err.message}`;
  }
}

describe('ModelNamespace', () => {
  it("keeps two tenants' models of the same name apart", () => {
    assert.equal(outcome(acme, 'fraud'), 'acme/fraud');
    assert.equal(outcome(beta, 'fraud'), 'beta/fraud');
  });

  it("answers another tenant's model exactly as a missing model", () => {
    const missing = outcome(acme, 'nosuchmodel');
    assert.equal(missing, 'NOT_FOUND: Servable not found for request: Latest(nosuchmodel)');
    assert.equal(outcome(acme, 'churn'), 'NOT_FOUND: Servable not found for request: Latest(churn)');
    assert.equal(
      outcome(acme, 'beta/churn'),
      'NOT_FOUND: Servable not found for request: Latest(beta/churn)',
    );
    assert.equal(
      outcome(acme, 'churn', { kind: 'version', version: 3 }),
      outcome(acme, 'nosuchmodel', { kind: 'version', version: 3 }).replace('nosuchmodel', 'churn'),
    );
    assert.equal(
      outcome(acme, 'churn', { kind: 'version', version: 3 }),
      'NOT_FOUND: Servable not found for request: Specific(churn, 3)',
    );
    assert.equal(
      outcome(acme, 'churn', { kind: 'label', label: 'stable' }),
      'INVALID_ARGUMENT: Unrecognized servable version label: stable',
    );
  });

  it('shows shared models only to the tenants that list them', () => {
    assert.equal(outcome(acme, 'mnist'), 'mnist');
    assert.equal(outcome(beta, 'mnist'), 'NOT_FOUND: Servable not found for request: Latest(mnist)');
    assert.equal(outcome(acme, 'resnet'), 'NOT_FOUND: Servable not found for request: Latest(resnet)');
    assert.equal(outcome(gamma, 'resnet'), 'resnet');
    assert.equal(outcome(gamma, 'mnist'), 'mnist');
  });

  it("lets a tenant's own model hide a shared model of the same name", () => {
    const withOwnMnist = (n: string) => n === 'acme/mnist' || n === 'mnist';
    assert.equal(ns.resolve(acme, 'mnist', withOwnMnist), 'acme/mnist');
  });

  it('lets admins address everything by internal name', () => {
    assert.equal(outcome(admin, 'beta/fraud'), 'beta/fraud');
    assert.equal(outcome(admin, 'resnet'), 'resnet');
    assert.ok(ns.canSee(admin, 'beta/churn'));
  });

  it('shows nothing to an unauthenticated caller when tenancy is on', () => {
    assert.equal(outcome(undefined, 'mnist'), 'NOT_FOUND: Servable not found for request: Latest(mnist)');
    assert.equal(ns.canSee(undefined, 'mnist'), false);
  });

  it('passes names through when tenancy is off', () => {
    const open = new ModelNamespace(TENANCY_OFF);
    assert.equal(
      open.resolve(undefined, 'fraud', () => false),
      'fraud',
    );
    assert.equal(
      open.resolve({ tenant: undefined, admin: true }, 'fraud', () => false),
      'fraud',
    );
    assert.deepEqual(open.visibleNames(undefined, ['b', 'a']), ['a', 'b']);
  });

  it('lists what each caller may see under the names it uses', () => {
    assert.deepEqual(ns.visibleNames(acme, configured), ['fraud', 'mnist', 'mnist2']);
    assert.deepEqual(ns.visibleNames(beta, configured), ['churn', 'fraud']);
    assert.deepEqual(ns.visibleNames(gamma, configured), ['mnist', 'resnet']);
    assert.deepEqual(ns.visibleNames(admin, configured), [...configured].sort());
  });

  it('builds and splits internal names', () => {
    assert.equal(internalModelName({ name: 'fraud', tenant: 'acme' }), 'acme/fraud');
    assert.equal(internalModelName({ name: 'mnist', tenant: undefined }), 'mnist');
    assert.deepEqual(splitInternalName('acme/fraud'), { tenant: 'acme', name: 'fraud' });
    assert.deepEqual(splitInternalName('mnist'), { tenant: undefined, name: 'mnist' });
  });
});

describe('checkModelTenancy', () => {
  const model = (name: string, tenant: string | undefined) => ({ name, tenant }) as ModelConfig;

  it('accepts the same name under two tenants and a shared model', () => {
    assert.deepEqual(
      checkModelTenancy([model('fraud', 'acme'), model('fraud', 'beta'), model('mnist', undefined)], tenancy),
      [],
    );
  });

  it('reports unknown tenants, duplicates and shared_models naming no shared model', () => {
    const problems = checkModelTenancy(
      [model('fraud', 'acme'), model('fraud', 'acme'), model('x', 'ghost')],
      tenancy,
    );
    assert.deepEqual(problems, [
      "models[1].name 'fraud' is already used by another model of tenant 'acme'",
      "models[2].tenant 'ghost' is not a configured tenant",
      "tenants[0].shared_models names 'mnist', which is not a shared model (one without tenant)",
    ]);
  });

  it('reports a tenant model when tenancy is off', () => {
    assert.deepEqual(checkModelTenancy([model('fraud', 'acme')], TENANCY_OFF), [
      "models[0].tenant 'acme' needs a tenants section",
    ]);
  });
});

import type { ErrorObject } from 'ajv';

/** A config that failed validation. `problems` each name the exact path and the rule. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`Invalid config ${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** `/models/1/version_policy` → `models[1].version_policy`. */
export function configPath(instancePath: string, root = ''): string {
  let out = root;
  for (const segment of instancePath.split('/').slice(1)) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else out += out ? `.${key}` : key;
  }
  return out || '(root)';
}

/** One line per ajv error: `<path> <rule>`, naming the offending key where ajv knows it. */
export function formatAjvError(e: ErrorObject): string {
  const path = configPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${path} has unknown key '${String(params.additionalProperty)}'`;
    case 'required':
      return `${path} must have required property '${String(params.missingProperty)}'`;
    case 'enum':
      return `${path} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'propertyNames':
      return `${path} has an invalid key '${String(params.propertyName)}'`;
    default:
      return `${path} ${e.message ?? 'is invalid'}`;
  }
}

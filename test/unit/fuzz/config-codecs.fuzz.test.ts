import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ServingError } from '../../../src/core/errors.js';
import { ConfigError } from '../../../src/main/config/config-error.js';
import { buildConfig } from '../../../src/main/config/load-config.js';
import { modelServerConfigFromText } from '../../../src/main/config/model-server-config.js';
import { parseTextProto, TextProtoError } from '../../../src/main/config/text-proto.js';
import { fuzzParams } from './fuzz-support.js';

/** `run()` returns or throws one of `allowed`; anything else (TypeError, RangeError) fails. */
function throwsOnly(allowed: readonly (new (...a: never[]) => Error)[], run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!allowed.some((c) => err instanceof c)) {
      assert.fail(`threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message ?? String(err)}`);
    }
  }
}

const VALID = `model_config_list {
  config { name: "a" base_path: "/models/a" model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 } }
  config { name: 'b' base_path: "/models/b" model_version_policy { latest { num_versions: 2 } } }
}`;

/** Text-format sources: the valid config cut, spliced and re-tokenized, and raw token soup. */
const textSource = fc.oneof(
  fc
    .tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 10 }))
    .map(([a, b, junk]) => VALID.slice(0, a % VALID.length) + junk + VALID.slice(b % VALID.length)),
  fc
    .array(
      fc.constantFrom(
        '{',
        '}',
        '<',
        '>',
        ':',
        ';',
        ',',
        '[',
        ']',
        '"x"',
        "'y'",
        '"\\',
        'name',
        'config',
        '1',
        '-2',
        '0x1f',
        '1e400',
        'true',
        '#c\n',
        'model_config_list',
        'versions',
        '\n',
      ),
      { maxLength: 40 },
    )
    .map((t) => t.join(' ')),
  fc.string({ maxLength: 200 }),
);

describe('codec fuzzing: config formats parse or refuse with their own error', () => {
  it('text format (TF Serving --model_config_file, reload RPC text)', () => {
    fc.assert(
      fc.property(textSource, (src) => {
        throwsOnly([TextProtoError, ServingError, ConfigError], () =>
          modelServerConfigFromText(parseTextProto(src)),
        );
      }),
      fuzzParams(3000),
    );
  });

  it('YAML-shaped config objects through schema validation and resolution', () => {
    const model = fc.record(
      {
        name: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()),
        base_path: fc.oneof(fc.constant('models/half_plus_two'), fc.string({ maxLength: 6 })),
        version_policy: fc.anything({ maxDepth: 3 }),
        version_labels: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), fc.string())),
        batching: fc.record(
          {
            max_batch_size: fc.integer(),
            batch_timeout_micros: fc.integer(),
            allowed_batch_sizes: fc.array(fc.integer()),
          },
          { requiredKeys: [] },
        ),
        device: fc.string({ maxLength: 6 }),
      },
      { requiredKeys: [] },
    );
    const config = fc.record(
      {
        server: fc.anything({ maxDepth: 3 }),
        devices: fc.anything({ maxDepth: 3 }),
        model_defaults: fc.anything({ maxDepth: 3 }),
        models: fc.oneof(fc.array(model, { maxLength: 3 }), fc.anything({ maxDepth: 2 })),
        tenants: fc.anything({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(config, (raw) => throwsOnly([ConfigError], () => buildConfig(raw, 'fuzz', '/tmp'))),
      fuzzParams(500),
    );
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/main/config/config-error.js';
import { configFromFlags, parseFlags } from '../../../src/main/config/flags.js';
import { loadModelServerConfigFile } from '../../../src/main/config/model-server-config.js';
import { parseTextProto, TextProtoError } from '../../../src/main/config/text-proto.js';

const SAMPLE = `# TF Serving model config
model_config_list {
  config { name: "half_plus_two" base_path: "/models/half_plus_two" model_platform: "tensorflow"
           model_version_policy { specific { versions: 1 versions: 2 } }
           version_labels { key: "stable" value: 1 }
           version_labels { key: 'canary' value: 2 } }
  config: < name: "cnn", base_path: "models/cnn"; model_version_policy: { latest { num_versions: 2 } } >
  config { name: "all" base_path: "a" model_platform: "onnx" model_version_policy { all {} } }
}
`;

function write(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ts-pbtxt-'));
  const file = path.join(dir, 'models.config');
  writeFileSync(file, text);
  return file;
}

describe('text proto parser', () => {
  it('parses nested messages, repeated fields, both bracket styles and separators', () => {
    const msg = parseTextProto(SAMPLE);
    const list = msg.model_config_list[0] as Record<string, unknown[]>;
    assert.equal(list.config.length, 3);
    const first = list.config[0] as Record<string, unknown[]>;
    assert.deepEqual(first.name, ['half_plus_two']);
    const policy = (first.model_version_policy[0] as Record<string, unknown[]>).specific[0] as Record<
      string,
      unknown[]
    >;
    assert.deepEqual(policy.versions, [1, 2]);
  });

  it('handles escapes, concatenated strings, lists and booleans', () => {
    const msg = parseTextProto('a: "x\\"y" "z" b: [1, 2, 3] c: true d: ENUM_NAME e: -1.5e2');
    assert.deepEqual(msg, { a: ['x"yz'], b: [1, 2, 3], c: [true], d: ['ENUM_NAME'], e: [-150] });
  });

  it('reports syntax errors with line and column', () => {
    assert.throws(
      () => parseTextProto('a {\n  b: "x"\n'),
      (err: unknown) => {
        assert.ok(err instanceof TextProtoError);
        assert.match(err.message, /Expected '\}' at line 3/);
        return true;
      },
    );
    assert.throws(() => parseTextProto('a: "unterminated'), /Unterminated string at line 1, column 4/);
    assert.throws(() => parseTextProto('a b'), /Expected ':' or '\{' after field 'a'/);
  });
});

describe('--model_config_file', () => {
  it('turns a ModelServerConfig into model configs', () => {
    const file = write(SAMPLE);
    const models = loadModelServerConfigFile(file, {});
    assert.deepEqual(
      models.map((m) => m.name),
      ['half_plus_two', 'cnn', 'all'],
    );
    assert.deepEqual(models[0].versionPolicy, { kind: 'specific', versions: [1, 2] });
    assert.deepEqual(models[0].versionLabels, { stable: 1, canary: 2 });
    assert.equal(models[0].platform, undefined);
    assert.equal(models[1].basePath, path.join(path.dirname(file), 'models/cnn'));
    assert.deepEqual(models[1].versionPolicy, { kind: 'latest', numVersions: 2 });
    assert.deepEqual(models[2].versionPolicy, { kind: 'all' });
    assert.equal(models[2].platform, 'onnx');
  });

  it('applies model_defaults from the YAML config', () => {
    const file = write('model_config_list { config { name: "m" base_path: "/m" } }');
    const [m] = loadModelServerConfigFile(file, { batching: { max_batch_size: 4 }, load_retries: 1 });
    assert.equal(m.batching.maxBatchSize, 4);
    assert.equal(m.loadRetries, 1);
  });

  it('names the problem of a bad entry', () => {
    const missing = write('model_config_list { config { name: "m" } }');
    assert.throws(
      () => loadModelServerConfigFile(missing, {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /model_config_list\.config\[0\] \('m'\): missing base_path/);
        return true;
      },
    );
    const platform = write(
      'model_config_list { config { name: "m" base_path: "/x" model_platform: "pytorch" } }',
    );
    assert.throws(() => loadModelServerConfigFile(platform, {}), /unknown model_platform 'pytorch'/);
    const syntax = write('model_config_list { config { name: "m" ');
    assert.throws(() => loadModelServerConfigFile(syntax, {}), /Expected '\}' at line 1/);
  });

  it('is accepted by the command line in place of YAML models', () => {
    const file = write(SAMPLE);
    const c = configFromFlags(
      parseFlags([`--model_config_file=${file}`, '--model_config_file_poll_wait_seconds=5']),
    );
    assert.equal(c.models.length, 3);
    assert.equal(c.configFile, file);
    assert.equal(c.configPollIntervalMs, 5000);
  });
});

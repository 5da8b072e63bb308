import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/main/config/config-error.js';
import { buildConfig } from '../../../src/main/config/load-config.js';

const model = (signatures: unknown) => ({ models: [{ name: 'm', base_path: 'm', signatures }] });

function problemsOf(raw: unknown, baseDir = '/base'): readonly string[] {
  try {
    buildConfig(raw, 'test', baseDir);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('model signatures config', () => {
  it('builds classify and regress signatures and reads the labels file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ts-sigs-'));
    writeFileSync(path.join(dir, 'labels.txt'), 'cat\ndog\n');
    const c = buildConfig(
      model({
        c: { method: 'classify', inputs: { pixels: 'image' }, scores: 'probs', labels_file: 'labels.txt' },
        r: { method: 'regress', inputs: { x: 'x' }, values: 'y' },
      }),
      'test',
      dir,
    );
    assert.deepEqual(c.models[0].signatures, {
      c: {
        name: 'c',
        method: 'classify',
        inputs: { pixels: 'image' },
        scores: 'probs',
        labels: ['cat', 'dog'],
      },
      r: { name: 'r', method: 'regress', inputs: { x: 'x' }, values: 'y' },
    });
  });

  it('names every problem with its path', () => {
    const problems = problemsOf(
      model({
        serving_default: { method: 'regress', inputs: { x: 'x' }, values: 'y' },
        c: { method: 'classify', inputs: { a: 'x', b: 'x' }, values: 'y' },
        r: { method: 'regress', inputs: { x: 'x' }, scores: 's' },
        l: { method: 'classify', inputs: { x: 'x' }, scores: 's', labels_file: 'missing.txt' },
      }),
    );
    const expected = [
      /models\[0\]\.signatures\.serving_default: 'serving_default' is the model's own predict signature/,
      /models\[0\]\.signatures\.c\.inputs feeds model input 'x' from more than one feature/,
      /models\[0\]\.signatures\.c: a classify signature needs 'scores'/,
      /models\[0\]\.signatures\.c: 'values' is for regress signatures/,
      /models\[0\]\.signatures\.r: a regress signature needs 'values'/,
      /models\[0\]\.signatures\.r: 'scores' is for classify signatures/,
      /models\[0\]\.signatures\.l\.labels_file '\/base\/missing\.txt' cannot be read: ENOENT/,
    ];
    for (const re of expected)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} not in ${problems.join('; ')}`,
      );
  });

  it('rejects unknown keys and methods through the schema', () => {
    const problems = problemsOf(model({ s: { method: 'predict', inputs: { x: 'x' }, extra: 1 } }));
    assert.ok(
      problems.some((p) => /signatures\.s has unknown key 'extra'/.test(p)),
      problems.join('; '),
    );
    assert.ok(problems.some((p) => /signatures\.s\.method must be one of "classify", "regress"/.test(p)));
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../fixtures/repo-root.js';

/** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(file: string): string[] {
  return readFileSync(path.join(REPO_ROOT, 'deploy', file), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

describe('Dockerfiles (deploy/)', () => {
  for (const file of ['Dockerfile', 'Dockerfile.gpu']) {
    it(`${file}: multi-stage, production deps, non-root, health check and both ports`, () => {
      const lines = instructions(file);
      const stages = lines.filter((l) => l.startsWith('FROM '));
      assert.ok(stages.length >= 2, 'multi-stage');
      assert.ok(lines.includes('ARG NODE_IMAGE=node:20-slim'));
      assert.ok(lines.some((l) => /^RUN .*npm ci --omit=dev/.test(l)));
      assert.ok(lines.some((l) => /^COPY --from=build .*dist\/src/.test(l)));
      const user = lines.filter((l) => l.startsWith('USER ')).pop();
      assert.ok(user && user !== 'USER root' && user !== 'USER 0', 'runs as non-root');
      assert.ok(lines.includes('EXPOSE 8500 8501'));
      assert.ok(lines.some((l) => l.startsWith('HEALTHCHECK ') && l.includes('/v2/health/live')));
      assert.ok(lines.some((l) => l.startsWith('ENTRYPOINT ') && l.includes('dist/src/main/cli.js')));
    });
  }

  it('the GPU variant installs ONNX Runtime with CUDA on a CUDA base', () => {
    const lines = instructions('Dockerfile.gpu');
    assert.ok(lines.some((l) => /^ARG CUDA_IMAGE=nvidia\/cuda:12\./.test(l)));
    assert.ok(lines.some((l) => l.includes('ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev')));
  });
});

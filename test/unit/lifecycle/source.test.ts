import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileSystemSource, versionDirs } from '../../../src/main/lifecycle/source.js';
import { FakeClock, modelConfig } from './fakes.js';

describe('FileSystemSource', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tensorserve-source-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reports numbered version directories as they are added and removed', async () => {
    const base = join(root, 'm');
    await mkdir(join(base, '1'), { recursive: true });
    const clock = new FakeClock();
    const source = new FileSystemSource({ clock });
    const model = modelConfig('m', { basePath: base });

    let result = await source.poll(model);
    assert.deepEqual(result, {
      model: 'm',
      versions: [{ version: 1, path: join(base, '1') }],
      error: undefined,
      polledAt: clock.now(),
    });

    await mkdir(join(base, '12'));
    await mkdir(join(base, '3'));
    result = await source.poll(model);
    assert.deepEqual(
      result.versions.map((v) => v.version),
      [1, 3, 12],
    );

    await rm(join(base, '1'), { recursive: true });
    result = await source.poll(model);
    assert.deepEqual(
      result.versions.map((v) => v.version),
      [3, 12],
    );
  });

  it('ignores non-integer names, negative numbers and plain files', async () => {
    const base = join(root, 'mixed');
    for (const name of ['2', 'tmp', '1.5', '-3', '4a', '.7', 'assets'])
      await mkdir(join(base, name), { recursive: true });
    await writeFile(join(base, '9'), 'not a directory');
    const result = await new FileSystemSource().poll(modelConfig('mixed', { basePath: base }));
    assert.deepEqual(result.versions, [{ version: 2, path: join(base, '2') }]);
    assert.equal(result.error, undefined);
  });

  it('counts a symbolic link to a directory as a version', async () => {
    const base = join(root, 'linked');
    await mkdir(join(base, 'real'), { recursive: true });
    await symlink(join(base, 'real'), join(base, '5'));
    await symlink(join(base, 'nowhere'), join(base, '6'));
    const result = await new FileSystemSource().poll(modelConfig('linked', { basePath: base }));
    assert.deepEqual(
      result.versions.map((v) => v.version),
      [5],
    );
  });

  it('reports a missing base path as NOT_FOUND on the model instead of throwing', async () => {
    const base = join(root, 'absent');
    const result = await new FileSystemSource().poll(modelConfig('absent', { basePath: base }));
    assert.deepEqual(result.versions, []);
    assert.equal(result.error?.code, 'NOT_FOUND');
    assert.equal(result.error?.message, `Could not find base path ${base} for servable absent`);
  });

  it('reports a base path that is a file as NOT_FOUND, other failures with their code', async () => {
    const file = join(root, 'file');
    await writeFile(file, 'x');
    const notDir = await new FileSystemSource().poll(modelConfig('f', { basePath: file }));
    assert.equal(notDir.error?.code, 'NOT_FOUND');

    const denied = new FileSystemSource({
      listDir: async () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
    });
    const result = await denied.poll(modelConfig('d', { basePath: '/secret' }));
    assert.equal(result.error?.code, 'PERMISSION_DENIED');
    assert.match(result.error?.message ?? '', /Could not list base path \/secret for servable d: EACCES/);
  });

  it('pollAll polls every model independently', async () => {
    const base = join(root, 'p');
    await mkdir(join(base, '4'), { recursive: true });
    const results = await new FileSystemSource().pollAll([
      modelConfig('p', { basePath: base }),
      modelConfig('q', { basePath: join(root, 'q-missing') }),
    ]);
    assert.deepEqual(
      results.map((r) => [r.model, r.versions.length, r.error?.code]),
      [
        ['p', 1, undefined],
        ['q', 0, 'NOT_FOUND'],
      ],
    );
  });
});

describe('versionDirs', () => {
  it('prefers the canonical spelling when two names parse to the same version', () => {
    const dirs = versionDirs('/b', [
      { name: '007', isDirectory: true },
      { name: '7', isDirectory: true },
      { name: '08', isDirectory: true },
      { name: '008', isDirectory: true },
    ]);
    assert.deepEqual(dirs, [
      { version: 7, path: '/b/7' },
      { version: 8, path: '/b/008' },
    ]);
  });
});

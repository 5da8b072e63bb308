import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, wallClock } from '../../core/clock.js';
import { errorMessage, ServingError } from '../../core/errors.js';
import type { ModelConfig } from '../config/model-config.js';

/** One child of a base path, as the source needs to see it. */
export interface DirEntry {
  readonly name: string;
  /** True for a directory or a symbolic link to one. */
  readonly isDirectory: boolean;
}

/** Lists a directory; rejects like `fs.readdir` (errors with `code` ENOENT, EACCES, ...). */
export type ListDir = (path: string) => Promise<readonly DirEntry[]>;

/** One numbered version directory found under a model's base path. */
export interface VersionDir {
  readonly version: number;
  /** Absolute path of the version directory. */
  readonly path: string;
}

/** The outcome of polling one model's base path. */
export interface SourceResult {
  readonly model: string;
  /** Version directories present, ascending by version; empty on error. */
  readonly versions: readonly VersionDir[];
  /** Set when the base path could not be listed (missing, not a directory, no access). */
  readonly error: ServingError | undefined;
  /** Clock time of the poll. */
  readonly polledAt: number;
}

export interface SourceOptions {
  readonly listDir?: ListDir;
  readonly clock?: Clock;
}

const VERSION_NAME = /^\d+$/;

/**
 * TF Serving's file-system storage path Source: lists each model's base path and reports
 * the numbered version directories in it (children whose names are non-negative integers;
 * everything else is ignored). Stateless: every poll reports the full list, and a version
 * missing from it means "unload". It never throws for a bad base path; the error is
 * returned on the model's result so the caller can report it and keep going.
 */
export class FileSystemSource {
  private readonly listDir: ListDir;
  private readonly clock: Clock;

  constructor(options: SourceOptions = {}) {
    this.listDir = options.listDir ?? listDirFromFs;
    this.clock = options.clock ?? wallClock;
  }

  async poll(model: ModelConfig): Promise<SourceResult> {
    const polledAt = this.clock.now();
    let entries: readonly DirEntry[];
    try {
      entries = await this.listDir(model.basePath);
    } catch (err) {
      return { model: model.name, versions: [], error: basePathError(model, err), polledAt };
    }
    return { model: model.name, versions: versionDirs(model.basePath, entries), error: undefined, polledAt };
  }

  pollAll(models: readonly ModelConfig[]): Promise<SourceResult[]> {
    return Promise.all(models.map((m) => this.poll(m)));
  }
}

/** Numbered version directories among `entries`, ascending; `007` counts as version 7 unless `7` exists. */
export function versionDirs(basePath: string, entries: readonly DirEntry[]): VersionDir[] {
  const byVersion = new Map<number, string>();
  for (const e of entries) {
    if (!e.isDirectory || !VERSION_NAME.test(e.name)) continue;
    const version = Number(e.name);
    if (!Number.isSafeInteger(version)) continue;
    const seen = byVersion.get(version);
    // Prefer the canonical spelling, then the first in name order, so polls are stable.
    if (seen === undefined || e.name === String(version) || (seen !== String(version) && e.name < seen)) {
      byVersion.set(version, e.name);
    }
  }
  return [...byVersion.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([version, name]) => ({ version, path: join(basePath, name) }));
}

function basePathError(model: ModelConfig, err: unknown): ServingError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new ServingError(
      'NOT_FOUND',
      `Could not find base path ${model.basePath} for servable ${model.name}`,
      { cause: err },
    );
  }
  const status = code === 'EACCES' || code === 'EPERM' ? 'PERMISSION_DENIED' : 'UNKNOWN';
  return new ServingError(
    status,
    `Could not list base path ${model.basePath} for servable ${model.name}: ${errorMessage(err)}`,
    { cause: err },
  );
}

async function listDirFromFs(path: string): Promise<DirEntry[]> {
  const dirents = await readdir(path, { withFileTypes: true });
  return Promise.all(
    dirents.map(async (d) => {
      if (!d.isSymbolicLink()) return { name: d.name, isDirectory: d.isDirectory() };
      // A symlinked version directory counts (deployments often swap links atomically).
      const target = await stat(join(path, d.name)).catch(() => undefined);
      return { name: d.name, isDirectory: target?.isDirectory() ?? false };
    }),
  );
}

import { join } from 'node:path';
import type { Platform } from '../../core/platform.js';
import type { Signature } from '../../core/signature.js';
import { readOnnxSignature } from '../../workers/onnx-metadata.js';
import { detectPlatform } from '../../workers/platform.js';
import { readTfjsSignature } from '../../workers/tfjs-signature.js';
import type { LifecycleLogger } from './logger.js';

/** A version's signature as read from its files, before (or without) loading it. */
export interface OfflineSignature {
  readonly platform: Platform;
  readonly signature: Signature;
}

/**
 * Signatures of on-demand versions read from their model files without loading them, so
 * metadata answers for a version in START (issue 12). Only files that carry their signature
 * are read: ONNX (the graph's inputs and outputs) and TF.js graph models whose model.json has
 * a `signature` block. TF.js layers models, graph models without one, and SavedModels answer
 * metadata once resident. Owned by the manager; a failed read is logged and leaves no entry.
 */
export class OfflineMetadata {
  private readonly entries = new Map<string, OfflineSignature>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger?: LifecycleLogger) {}

  /** Starts reading `versionDir`'s signature unless it is known already. */
  prefetch(model: string, version: number, versionDir: string, platform: Platform | undefined): void {
    const id = `${model}/${version}`;
    if (this.entries.has(id)) return;
    const read = (async () => {
      try {
        const p = platform ?? (await detectPlatform(versionDir));
        const signature =
          p === 'onnx'
            ? await readOnnxSignature(join(versionDir, 'model.onnx'))
            : p === 'tfjs'
              ? await readTfjsSignature(join(versionDir, 'model.json'))
              : undefined;
        if (signature !== undefined) this.entries.set(id, { platform: p, signature });
      } catch (err) {
        this.logger?.warn(
          { model, version, err },
          'cannot read the signature of an on-demand model without loading it',
        );
      }
    })();
    this.pending.add(read);
    void read.finally(() => this.pending.delete(read));
  }

  get(model: string, version: number): OfflineSignature | undefined {
    return this.entries.get(`${model}/${version}`);
  }

  /** Resolves once every read started so far has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

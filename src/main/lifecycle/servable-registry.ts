/** What one loaded servable key is. `model` is the manager's (internal) name. */
export interface ServableInfo {
  readonly model: string;
  readonly version: number;
  readonly device: string;
  readonly tenant: string | undefined;
}

/** A registry row: the servable key and what it is. */
export interface ServableEntry extends ServableInfo {
  /** Scheduler/pool key of the version, unique across the server (see LoadedVersion.key). */
  readonly key: string;
}

/**
 * The registry from servable key to {model, version, device, tenant} of every version held
 * on a device (from its registration with the scheduler until its unload). Owned by
 * ServerCore, which hands it to the loader to write and answers the queries of metrics and
 * reports; nothing else writes it.
 */
export class ServableRegistry {
  readonly #entries = new Map<string, ServableInfo>();

  /** Records a version the loader has placed; replaces any entry under the same key. */
  add(key: string, info: ServableInfo): void {
    this.#entries.set(key, info);
  }

  /** Forgets a key (unloaded, or its load failed after registering). Unknown keys are ignored. */
  remove(key: string): void {
    this.#entries.delete(key);
  }

  get(key: string): ServableInfo | undefined {
    return this.#entries.get(key);
  }

  /** Every registered version, in registration order. */
  entries(): ServableEntry[] {
    const rows: ServableEntry[] = [];
    for (const [key, info] of this.#entries) rows.push({ key, ...info });
    return rows;
  }
}

/** What `whenFirstReady` watches. */
export interface ReadinessSource {
  /** True when every configured model has an AVAILABLE version and the server is not draining. */
  ready(): boolean;
  /** Calls `listener` after each version state change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/**
 * Runs `action` once, the first time `source` is ready (checked now and after each version
 * change), unless `cancelled()` says the server is shutting down by then; stops watching
 * after either. Used to bind the gRPC port only once the server can serve
 * (server.grpc.listen_when_ready).
 */
export function whenFirstReady(source: ReadinessSource, cancelled: () => boolean, action: () => void): void {
  let done = false;
  let unsubscribe: (() => void) | undefined;
  const check = () => {
    if (done) return;
    if (cancelled()) {
      done = true;
    } else if (source.ready()) {
      done = true;
      action();
    }
    if (done) unsubscribe?.();
  };
  // After the change is applied: a listener may run before readiness reflects it.
  unsubscribe = source.onChange(() => queueMicrotask(check));
  check();
}

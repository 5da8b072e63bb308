/**
 * SIGHUP: reload the config (as nginx and most daemons do). Only SIGHUP lives here; the drain
 * signals (SIGTERM, SIGINT) are the shutdown's. Installing the handler also stops SIGHUP from
 * ending the process (Node's default). Returns a function that removes the handler.
 */
export function reloadOnSighup(reload: () => void): () => void {
  const handler = () => reload();
  process.on('SIGHUP', handler);
  return () => {
    process.off('SIGHUP', handler);
  };
}

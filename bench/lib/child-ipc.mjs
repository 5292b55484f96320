// The child side of the bench's IPC, shared by the load generators and the servers: messages to
// the orchestrator, and failing loudly (reported, then exit) so the orchestrator's deadline never
// has to find out.

/** Sends `message` to the orchestrator (nothing when run by hand, without IPC). */
export function send(message) {
  if (process.send !== undefined) process.send(message);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reports `error` to the orchestrator, then exits: sockets opened before the failure would
 * otherwise keep the process alive.
 */
export function fail(error) {
  const message = error instanceof Error ? error.message : String(error);
  if (process.send === undefined) {
    console.error(message);
    process.exit(1);
  }
  process.send({ type: "error", message }, () => process.exit(1));
}

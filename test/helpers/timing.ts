/**
 * Bounded waiting for tests: every wait has a deadline so a hung peer fails one test with a message
 * instead of stalling the whole run until the runner's global timeout.
 */

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with `what timed out after ms` unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Anything with `once`: Node's emitters, duplexio's client emitters, socket.io-client's. */
export interface OnceEmitter {
  // A method, so that its parameter is checked bivariantly: emitters with typed listeners fit.
  once(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** The arguments of the next `event` of `emitter`, or a rejection after `ms`. */
export function nextEvent<T extends unknown[] = unknown[]>(
  emitter: OnceEmitter,
  event: string,
  ms = 5000,
): Promise<T> {
  return withTimeout(
    new Promise<T>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T))),
    ms,
    `waiting for "${event}"`,
  );
}

/** Polls `condition` every `stepMs` until it holds; rejects after `ms`. */
export async function waitUntil(
  condition: () => boolean,
  ms: number,
  what: string,
  stepMs = 5,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await delay(stepMs);
  }
}

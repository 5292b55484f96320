/**
 * `duplexio/workers`: every core of a machine serving one port. {@link runWorkers} forks worker
 * processes through Node's cluster module (which hands each incoming TCP connection to a worker,
 * round-robin), routes the cluster adapter's messages between them (`setupPrimary()` of
 * `duplexio/adapters/cluster`), restarts a worker that dies after a bounded backoff, and stops
 * them all on SIGINT or SIGTERM. Each worker runs your server with the cluster adapter: rooms,
 * broadcasts and sessions span the workers, no Redis needed.
 *
 * ```ts
 * import { Server } from "duplexio";
 * import { createAdapter } from "duplexio/adapters/cluster";
 * import { runWorkers } from "duplexio/workers";
 *
 * runWorkers(() => {
 *   const io = new Server(3000, { adapter: createAdapter() });
 *   io.on("connection", (socket) => socket.on("echo", (value, ack) => ack(value)));
 *   process.once("SIGTERM", () => io.close(() => process.exit(0)));
 * });
 * ```
 *
 * The same file runs in the primary and in each worker (cluster forks the process's main
 * module): in the primary `runWorkers` returns the {@link Workers} it manages; in a worker it
 * calls `start` and returns undefined.
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import { setupPrimary } from "../adapters/cluster/index.js";

/** Where {@link runWorkers} reports a worker's death and restart: one line each. */
export interface WorkersLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Options of {@link runWorkers}; every one has a default. */
export interface RunWorkersOptions {
  /** Worker processes (default `os.availableParallelism()`, one per core). */
  workers?: number;
  /** Milliseconds before restarting a worker that died (default 100); doubled for each death in a row. */
  restartDelayMs?: number;
  /** Most milliseconds before a restart (default 10,000): the backoff's bound. */
  maxRestartDelayMs?: number;
  /** A worker that ran this many milliseconds died "once", not "again" (default 10,000): its backoff starts over. */
  stableAfterMs?: number;
  /** Milliseconds workers get to exit after SIGTERM when stopping, before SIGKILL (default 10,000). */
  shutdownTimeoutMs?: number;
  /**
   * Whether SIGINT and SIGTERM stop the workers (default true): the primary sends each worker
   * SIGTERM once, and workers ignore SIGINT (a Ctrl-C in a terminal reaches every process of the
   * group; the primary's SIGTERM is what tells them). Workers handle SIGTERM themselves (close
   * the server, then exit); without a handler Node exits at once.
   */
  handleSignals?: boolean;
  /**
   * How messages cross the IPC channel (default "advanced": binary values stay binary; "json"
   * turns a Buffer into `{ type: "Buffer", data: [...] }`).
   */
  serialization?: "json" | "advanced";
  /** Where deaths and restarts are reported (default `console`). */
  logger?: WorkersLogger;
}

/** The workers, as the primary manages them. */
export interface Workers {
  /** How many workers run when all are up. */
  readonly size: number;
  /** The process ids of the workers running now. */
  pids(): number[];
  /**
   * Stops every worker (SIGTERM, SIGKILL after `shutdownTimeoutMs`) and restarts none; resolves
   * when all have exited. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
  /**
   * Settles when the workers are gone: resolves after {@link stop} (or a handled signal), rejects
   * when a worker died before any worker ever listened (a start-up failure such as a port in
   * use: restarting would fail the same way), after stopping the others.
   */
  readonly stopped: Promise<void>;
}

const DEFAULTS = {
  restartDelayMs: 100,
  maxRestartDelayMs: 10_000,
  stableAfterMs: 10_000,
  shutdownTimeoutMs: 10_000,
} as const;

/** One worker's place: the process in it now, and its deaths in a row. */
interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  startedAt: number;
  deathsInARow: number;
  restartTimer: NodeJS.Timeout | undefined;
}

/**
 * Runs `start` in `workers` worker processes sharing the ports they listen on (see the module's
 * example). In the primary: forks them and returns their {@link Workers}; in a worker: runs
 * `start` (a rejection or throw is printed and ends the worker with exit code 1) and returns
 * undefined.
 *
 * @throws RangeError for an invalid option.
 */
export function runWorkers(
  start: () => unknown,
  options: RunWorkersOptions = {},
): Workers | undefined {
  const size = options.workers ?? availableParallelism();
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`workers must be a whole number >= 1, got ${size}`);
  }
  for (const name of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = options[name];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`${name} must be a number of milliseconds >= 0, got ${value}`);
    }
  }
  const handleSignals = options.handleSignals ?? true;
  if (cluster.isWorker) {
    if (handleSignals) process.on("SIGINT", ignoreSignal);
    const logger = options.logger ?? console;
    Promise.resolve()
      .then(start)
      .catch((error: unknown) => {
        logger.warn(
          `worker ${cluster.worker?.id}: ${error instanceof Error ? error.message : error}`,
        );
        process.exit(1);
      });
    return undefined;
  }
  return startPrimary(size, handleSignals, options);
}

function ignoreSignal(): void {}

function startPrimary(size: number, handleSignals: boolean, options: RunWorkersOptions): Workers {
  const logger = options.logger ?? console;
  const restartDelayMs = options.restartDelayMs ?? DEFAULTS.restartDelayMs;
  const maxRestartDelayMs = options.maxRestartDelayMs ?? DEFAULTS.maxRestartDelayMs;
  const stableAfterMs = options.stableAfterMs ?? DEFAULTS.stableAfterMs;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs;
  cluster.setupPrimary({ serialization: options.serialization ?? "advanced" });
  setupPrimary();

  let stopping: Promise<void> | undefined;
  let listened = false;
  let failure: Error | undefined;
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const stopped = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A caller that only calls stop() must not get an unhandled rejection.
  stopped.catch(() => undefined);

  const slots: Slot[] = Array.from({ length: size }, (_, index) => ({
    index,
    worker: undefined,
    startedAt: 0,
    deathsInARow: 0,
    restartTimer: undefined,
  }));

  const onListening = (): void => {
    listened = true;
  };
  cluster.on("listening", onListening);

  const fork = (slot: Slot): void => {
    slot.restartTimer = undefined;
    const worker = cluster.fork({ DUPLEXIO_WORKER_INDEX: String(slot.index) });
    slot.worker = worker;
    slot.startedAt = performance.now();
    worker.once("exit", (code, signal) => onExit(slot, worker, code, signal));
    // The IPC channel to a worker that is exiting can break under a message the primary sends
    // it (cluster answers a failed listen to every worker waiting on that port: EPIPE once one
    // has exited). Its exit is handled above; without a listener the error would end the
    // primary.
    worker.on("error", (error) => onWorkerError(slot, error));
  };

  const onWorkerError = (slot: Slot, error: Error): void => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EPIPE" || code === "ERR_IPC_CHANNEL_CLOSED") return;
    logger.warn(`worker ${slot.index + 1}/${size}: ${error.message}`);
  };

  const onExit = (slot: Slot, worker: Worker, code: number, signal: string | null): void => {
    if (slot.worker === worker) slot.worker = undefined;
    if (stopping !== undefined) return;
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    const name = `worker ${slot.index + 1}/${size} (pid ${worker.process.pid})`;
    if (!listened) {
      logger.warn(`${name} ${how} before listening; stopping the others`);
      failure = new Error(`${name} ${how} before any worker listened`);
      void stop();
      return;
    }
    const ranMs = performance.now() - slot.startedAt;
    slot.deathsInARow = ranMs >= stableAfterMs ? 1 : slot.deathsInARow + 1;
    const delayMs = Math.min(restartDelayMs * 2 ** (slot.deathsInARow - 1), maxRestartDelayMs);
    logger.warn(`${name} ${how}; restarting it in ${delayMs} ms`);
    slot.restartTimer = setTimeout(() => fork(slot), delayMs);
  };

  const onSignal = (): void => {
    if (stopping === undefined) void stop();
    else {
      // A second Ctrl-C: no more waiting.
      for (const slot of slots) slot.worker?.process.kill("SIGKILL");
    }
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const slot of slots) clearTimeout(slot.restartTimer);
      const exits = slots.flatMap((slot) => {
        const worker = slot.worker;
        if (worker === undefined || worker.isDead()) return [];
        const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        worker.process.kill("SIGTERM");
        return [exited];
      });
      const timer = setTimeout(() => {
        for (const slot of slots) slot.worker?.process.kill("SIGKILL");
      }, shutdownTimeoutMs);
      await Promise.all(exits);
      clearTimeout(timer);
      cluster.off("listening", onListening);
      if (handleSignals) {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
      if (failure === undefined) settle.resolve();
      else settle.reject(failure);
    })();
    return stopping;
  };

  if (handleSignals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  for (const slot of slots) fork(slot);

  return {
    size,
    pids: () =>
      slots.flatMap((slot) =>
        slot.worker?.process.pid === undefined ? [] : [slot.worker.process.pid],
      ),
    stop,
    stopped,
  };
}

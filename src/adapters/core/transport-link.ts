/**
 * Whether the transport between the nodes (a Redis connection, the IPC channel) is up. One link
 * is shared by the adapters of every namespace that use the same transport, so that a lost
 * connection is reported once: one event on each adapter and one log line per change of state,
 * never one per message.
 */
import { EventEmitter } from "node:events";

/** Where the adapters write their few log lines (state changes); `false` for none. */
export type AdapterLogger = Pick<Console, "warn" | "info"> | false;

/** Events of a link. */
export interface TransportLinkEvents {
  /** The transport came back; what was queued meanwhile is being sent. */
  up: [downForMs: number];
  /** The transport is lost; nodes keep serving their own clients. */
  down: [reason: Error];
}

export class TransportLink extends EventEmitter<TransportLinkEvents> {
  readonly #name: string;
  readonly #logger: AdapterLogger;
  readonly #now: () => number;
  /** "connecting" until the transport is first up: going up from there is not news. */
  #state: "connecting" | "up" | "down" = "connecting";
  #downSince: number;

  /** @param name - what the log lines call the transport ("Redis", ...) */
  constructor(name: string, logger: AdapterLogger, now: () => number = Date.now) {
    super();
    this.#name = name;
    this.#logger = logger;
    this.#now = now;
    this.#downSince = now();
    // Listeners come and go with namespaces; a cluster may have many.
    this.setMaxListeners(0);
  }

  /** Whether messages can be sent now. */
  get up(): boolean {
    return this.#state === "up";
  }

  /** The transport works (again). */
  markUp(): void {
    if (this.#state === "up") return;
    const wasDown = this.#state === "down";
    this.#state = "up";
    const downForMs = this.#now() - this.#downSince;
    if (wasDown && this.#logger) {
      this.#logger.info(
        `duplexio adapter: ${this.#name} reachable again after ${(downForMs / 1000).toFixed(1)} s; sending what was queued`,
      );
    }
    this.emit("up", downForMs);
  }

  /** The transport is lost (or could not be reached at all). */
  markDown(reason: Error): void {
    if (this.#state === "down") return;
    if (this.#state === "up") this.#downSince = this.#now();
    this.#state = "down";
    if (this.#logger) {
      this.#logger.warn(
        `duplexio adapter: ${this.#name} unreachable (${reason.message}); serving local clients, cross-node messages queued until it returns`,
      );
    }
    this.emit("down", reason);
  }
}

/**
 * Records `message` events from the moment it is attached, so a test can await messages one by
 * one without losing those that arrive in the same TCP read as the previous one.
 */
import type { EventEmitter } from "node:events";
import { withTimeout } from "./timing.js";

/** A message as a Buffer plus its text/binary flag. */
export interface QueuedMessage {
  data: Buffer;
  isBinary: boolean;
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (typeof data === "string") return Buffer.from(data);
  throw new Error(`unexpected message data: ${Object.prototype.toString.call(data)}`);
}

/** A FIFO of the `message` events of a ws-compatible socket. */
export class MessageQueue {
  private readonly queued: QueuedMessage[] = [];
  private waiter: (() => void) | undefined;

  constructor(source: EventEmitter) {
    source.on("message", (data: unknown, isBinary: boolean) => {
      this.queued.push({ data: toBuffer(data), isBinary });
      this.waiter?.();
    });
  }

  /** Messages received and not taken yet. */
  get length(): number {
    return this.queued.length;
  }

  /** The oldest message not taken yet, waiting up to `ms` for one. */
  async next(ms = 10000): Promise<QueuedMessage> {
    if (this.queued.length === 0) {
      await withTimeout(
        new Promise<void>((resolve) => {
          this.waiter = resolve;
        }),
        ms,
        "waiting for a message",
      ).finally(() => {
        this.waiter = undefined;
      });
    }
    return this.queued.shift() as QueuedMessage;
  }
}

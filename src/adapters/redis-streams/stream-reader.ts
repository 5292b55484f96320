/**
 * Reads one Redis stream for every namespace of a node: a blocking XREAD loop on a connection of
 * its own, from the position it reached, so that a reconnection (or a Redis restart shorter than
 * the stream's retention) resumes where it stopped and loses nothing. Errors never end the loop:
 * it waits, longer each time up to a bound, and tries again.
 */
import type { RedisConnection, RedisStreamEntry } from "../redis/redis-connection.js";

/** First and longest wait after a failed read, in milliseconds. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

export class StreamReader {
  readonly #connection: RedisConnection;
  readonly #stream: string;
  readonly #count: number;
  readonly #blockMs: number;
  readonly #onEntry: (entry: RedisStreamEntry) => void;
  /** The id of the last entry read ("0-0" for an empty stream). */
  #position: string;
  #stopped = false;

  /**
   * @param start - the position to read after (the stream's last id when the node started)
   * @param onEntry - called for each entry, in stream order
   */
  constructor(
    connection: RedisConnection,
    stream: string,
    start: string,
    count: number,
    blockMs: number,
    onEntry: (entry: RedisStreamEntry) => void,
  ) {
    this.#connection = connection;
    this.#stream = stream;
    this.#position = start;
    this.#count = count;
    this.#blockMs = blockMs;
    this.#onEntry = onEntry;
    void this.#loop();
  }

  /** The id of the last entry read. */
  get position(): string {
    return this.#position;
  }

  /** Ends the loop and closes its connection (a blocked read ends with it). */
  stop(): void {
    this.#stopped = true;
    this.#connection.close();
  }

  async #loop(): Promise<void> {
    let retryMs = RETRY_MIN_MS;
    while (!this.#stopped) {
      let entries: RedisStreamEntry[];
      try {
        entries = await this.#connection.xread(
          this.#stream,
          this.#position,
          this.#count,
          this.#blockMs,
        );
      } catch {
        if (this.#stopped) return;
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
        continue;
      }
      retryMs = RETRY_MIN_MS;
      for (const entry of entries) {
        if (this.#stopped) return;
        this.#position = entry.id;
        try {
          this.#onEntry(entry);
        } catch {
          // A namespace's handler failing must not stop the others' reading.
        }
      }
    }
  }
}

/** The id of the last entry of `stream`, "0-0" when it is empty or does not exist. */
export async function lastEntryId(connection: RedisConnection, stream: string): Promise<string> {
  const reply = await connection.command(stream, ["XREVRANGE", stream, "+", "-", "COUNT", "1"]);
  const first = Array.isArray(reply) ? (reply[0] as unknown[] | undefined) : undefined;
  return first === undefined ? "0-0" : String(first[0]);
}

/**
 * The readers of a node: one per stream, started on first use at the stream's end, each on its
 * own duplicate of `redis`.
 */
export class StreamReaders {
  readonly #redis: RedisConnection;
  readonly #count: number;
  readonly #blockMs: number;
  readonly #onEntry: (entry: RedisStreamEntry) => void;
  readonly #onConnection: (connection: RedisConnection) => void;
  /** Per stream: its reader once started (undefined while it starts). */
  readonly #readers = new Map<string, StreamReader | undefined>();
  #stopped = false;

  /**
   * @param onEntry - called with every entry of every stream
   * @param onConnection - called with each connection made (to follow its state)
   */
  constructor(
    redis: RedisConnection,
    count: number,
    blockMs: number,
    onEntry: (entry: RedisStreamEntry) => void,
    onConnection: (connection: RedisConnection) => void,
  ) {
    this.#redis = redis;
    this.#count = count;
    this.#blockMs = blockMs;
    this.#onEntry = onEntry;
    this.#onConnection = onConnection;
  }

  /** Starts reading `stream` if nobody does yet; retried on the next call if starting failed. */
  ensure(stream: string): void {
    if (this.#readers.has(stream) || this.#stopped) return;
    this.#readers.set(stream, undefined);
    void (async () => {
      const start = await lastEntryId(this.#redis, stream);
      const connection = await this.#redis.duplicate();
      if (this.#stopped) {
        connection.close();
        return;
      }
      this.#onConnection(connection);
      const reader = new StreamReader(
        connection,
        stream,
        start,
        this.#count,
        this.#blockMs,
        this.#onEntry,
      );
      this.#readers.set(stream, reader);
    })().catch(() => {
      this.#readers.delete(stream);
    });
  }

  /** How far `stream` was read; undefined while its reader starts. */
  position(stream: string): string | undefined {
    return this.#readers.get(stream)?.position;
  }

  /** Stops every reader (their connections close). */
  stop(): void {
    this.#stopped = true;
    for (const reader of this.#readers.values()) reader?.stop();
    this.#readers.clear();
  }
}

import type { Direction } from "./terminal.js";

/** Where a session prints (the terminal, timestamped). */
export type Printer = (direction: Direction, text: string) => void;

/**
 * One connection of `duplexio connect`, WebSocket or Socket.IO. The command waits for `opened`,
 * then feeds it input lines, calls `end` when the input ends or on Ctrl-C, and exits with the code
 * `finished` resolves to.
 */
export interface Session {
  /**
   * Resolves once the connection is up (its details printed); rejects with a CliError (exit 1)
   * when it cannot be made, with one line saying why.
   */
  readonly opened: Promise<void>;
  /** Resolves with the exit code once the connection is over (its end printed). */
  readonly finished: Promise<number>;
  /** Handles one input line: a command, or a message to send. */
  handleLine(line: string): void;
  /**
   * Closes cleanly (WebSocket close 1000, Socket.IO disconnect) once what is pending is done
   * (sent messages written, acknowledgements answered or timed out). Before `opened`, gives up
   * connecting. Calling it again changes nothing.
   */
  end(): void;
  /** Drops the connection at once (a second Ctrl-C). */
  abort(): void;
}

/** Settles a promise from outside; the first settlement wins. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

/** A promise with its resolve/reject functions. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits yet (the command awaits `opened` first) is not a crash.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

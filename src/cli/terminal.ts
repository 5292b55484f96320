import { clearLine, createInterface, cursorTo, type Interface } from "node:readline";

/** What a printed line is about: `<` received, `>` sent, `*` connection news. */
export type Direction = "<" | ">" | "*";

/** What the terminal reports about its input. */
export interface TerminalInputHandlers {
  /** One line typed or read from the pipe, without its line ending. */
  line(text: string): void;
  /** The input ended: Ctrl-D, or the end of piped input (after every line). */
  end(): void;
  /** Ctrl-C in an interactive terminal (readline reads it as a key, not as a signal). */
  interrupt(): void;
}

/** `HH:MM:SS.mmm`, local time: enough to follow a conversation, short enough to read. */
export function timestamp(date: Date = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * The console of `duplexio connect`: timestamped output lines, and input lines either typed at a
 * prompt (both stdin and stdout are terminals) or read from a pipe, so the command is scriptable.
 */
export class Terminal {
  /** Whether a person types at a prompt (else lines come from a pipe or a file). */
  readonly interactive: boolean;
  readonly #input: NodeJS.ReadStream;
  readonly #output: NodeJS.WriteStream;
  #readline: Interface | null = null;

  constructor(
    input: NodeJS.ReadStream = process.stdin,
    output: NodeJS.WriteStream = process.stdout,
  ) {
    this.#input = input;
    this.#output = output;
    this.interactive = input.isTTY === true && output.isTTY === true;
  }

  /** Prints `HH:MM:SS.mmm <direction> text`, keeping the prompt and what is being typed intact. */
  print(direction: Direction, text: string): void {
    const line = `${timestamp()} ${direction} ${text}\n`;
    const readline = this.#readline;
    if (readline === null || !this.interactive) {
      this.#output.write(line);
      return;
    }
    clearLine(this.#output, 0);
    cursorTo(this.#output, 0);
    this.#output.write(line);
    readline.prompt(true);
  }

  /** Starts reading lines; call once. */
  start(handlers: TerminalInputHandlers): void {
    const readline = createInterface({
      input: this.#input,
      output: this.interactive ? this.#output : undefined,
      terminal: this.interactive,
      crlfDelay: Number.POSITIVE_INFINITY,
      prompt: "> ",
    });
    this.#readline = readline;
    readline.on("line", (text) => {
      handlers.line(text);
      if (this.#readline !== null && this.interactive) readline.prompt();
    });
    // `close` comes after the last `line`; stop() also closes it, and then nothing is reported.
    readline.on("close", () => {
      if (this.#readline === null) return;
      this.#readline = null;
      handlers.end();
    });
    readline.on("SIGINT", () => handlers.interrupt());
    if (this.interactive) readline.prompt();
  }

  /** Stops reading input (no more handler calls) and leaves the terminal as it was. */
  stop(): void {
    const readline = this.#readline;
    this.#readline = null;
    if (readline !== null) {
      if (this.interactive) {
        clearLine(this.#output, 0);
        cursorTo(this.#output, 0);
      }
      readline.close();
    }
    this.#input.pause();
  }

  /** Resolves once everything printed so far has been handed to the operating system. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#output.destroyed || this.#output.writableEnded) resolve();
      else this.#output.write("", () => resolve());
    });
  }
}

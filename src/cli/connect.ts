import { CONNECT_USAGE, parseConnectOptions } from "./connect-options.js";
import type { Session } from "./session.js";
import { Terminal } from "./terminal.js";

/**
 * `duplexio connect <url>`: an interactive WebSocket or Socket.IO client (see CONNECT_USAGE).
 * Connection failures reject with a one-line CliError (exit 1); once connected, the process exits
 * with the session's code after everything printed is flushed.
 */
export async function runConnect(argv: string[]): Promise<void> {
  const options = parseConnectOptions(argv);
  if (options === null) {
    console.log(CONNECT_USAGE);
    return;
  }
  const terminal = new Terminal();
  // A reader that went away (`| head`) is no reason to crash: there is just nobody to print to.
  process.stdout.on("error", () => {});
  const print = terminal.print.bind(terminal);
  const showSent = !terminal.interactive;
  // Only the client in use is loaded (the Socket.IO one is the bigger).
  const session: Session =
    options.mode === "socketio"
      ? (await import("./socketio-session.js")).openSocketIoSession(options, print, showSent)
      : (await import("./websocket-session.js")).openWebSocketSession(options, print, showSent);

  // First Ctrl-C (or SIGINT/SIGTERM): close cleanly; the next one drops the connection.
  let interrupted = false;
  let waitTimer: NodeJS.Timeout | undefined;
  const interrupt = (): void => {
    clearTimeout(waitTimer);
    if (interrupted) session.abort();
    else session.end();
    interrupted = true;
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  // Nothing left to wait for, yet the session never said it was over: a client that went quiet
  // without reporting an error. Say so rather than exit 0 in silence.
  const silentEnd = (): void => {
    process.stderr.write("duplexio: the connection ended without a word from the client\n");
    process.exit(1);
  };
  process.once("beforeExit", silentEnd);
  try {
    await session.opened;
  } catch (error) {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    process.off("beforeExit", silentEnd);
    throw error;
  }

  terminal.start({
    line: (text) => session.handleLine(text),
    end: () => {
      if (options.waitMs > 0) waitTimer = setTimeout(() => session.end(), options.waitMs);
      else session.end();
    },
    interrupt,
  });
  const code = await session.finished;
  clearTimeout(waitTimer);
  terminal.stop();
  await terminal.flush();
  process.exit(code);
}

import { type ConnectError, io, type Socket } from "../client/node.js";
import {
  describeConnectFailure,
  describeNotSocketIo,
  findErrorCode,
  NOT_SOCKET_IO,
} from "./connect-errors.js";
import type { ConnectOptions } from "./connect-options.js";
import { parseEmitCommand } from "./emit-command.js";
import { CliError } from "./errors.js";
import { formatJsonValues } from "./format.js";
import { deferred, type Printer, type Session } from "./session.js";

/** Ms to let the connection finish writing (the DISCONNECT packet) after a disconnect. */
const CLOSE_GRACE_MS = 2000;

const HELP = [
  'commands: emit <event> [json ...] (e.g. emit join "room1"), /close, //text sends /text;',
  'other lines are sent as "message" events',
].join(" ");

/** An event name as typed in `emit`: bare when it is one word, else a JSON string. */
function showEventName(name: string): string {
  return /^[^\s"]+$/.test(name) ? name : JSON.stringify(name);
}

/** `name arg1 arg2`, as `emit` takes them. */
function showEvent(name: string, args: readonly unknown[], options: ConnectOptions): string {
  const values = formatJsonValues(args, options.binaryEncoding);
  return values === "" ? showEventName(name) : `${showEventName(name)} ${values}`;
}

/**
 * One line for a `connect_error`: the server's refusal (its middleware's error and data), an
 * HTTP answer that is no Socket.IO server's (a 404: wrong --path or no Socket.IO server), or the
 * network's failure.
 */
function describeConnectError(url: string, error: ConnectError): string {
  const fromServer = findErrorCode(error) === undefined && "data" in error;
  if (!fromServer) {
    const answer = describeNotSocketIo(error);
    if (answer !== undefined) return answer;
    // Socket.IO servers hang up on WebSocket handshakes for other paths.
    const reset = findErrorCode(error) === "ECONNRESET" ? ` (${NOT_SOCKET_IO})` : "";
    return `${describeConnectFailure(url, error)}${reset}`;
  }
  const data = error.data === undefined ? "" : ` ${formatJsonValues([error.data], "hex")}`;
  return `the server refused the connection: ${error.message}${data}`;
}

/**
 * `duplexio connect --socketio <url>`, with duplexio's own Socket.IO client: events are printed
 * with their name and JSON arguments, `emit` lines send events and print the acknowledgement.
 */
export function openSocketIoSession(
  options: ConnectOptions,
  print: Printer,
  showSent: boolean,
): Session {
  const opened = deferred<void>();
  const finished = deferred<number>();
  let isOpen = false;
  let ending = false;
  let pendingAcks = 0;

  const socket: Socket = io(options.url, {
    forceNew: true,
    reconnection: false,
    timeout: options.timeoutMs,
    extraHeaders: options.headers,
    ...(options.auth !== undefined && { auth: options.auth }),
    ...(options.path !== undefined && { path: options.path }),
    ...(options.transport !== undefined && { transports: [options.transport] }),
  });
  const manager = socket.io;

  /** Resolves `finished` once the engine has closed (its last packets written), or after a grace. */
  const finishAfterClose = (code: number): void => {
    const engine = manager.engine;
    if (engine === undefined || engine.readyState === "closed") {
      finished.resolve(code);
      return;
    }
    const timer = setTimeout(() => finished.resolve(code), CLOSE_GRACE_MS);
    engine.on("close", () => {
      clearTimeout(timer);
      finished.resolve(code);
    });
  };

  // The engine may close while opening without the Manager reporting a connect_error (a
  // server that is not Socket.IO answering polling with something else): fail all the same.
  // ("forced close" is the Manager closing it after an error it reports itself.)
  manager.engine?.on("close", (reason, description) => {
    if (isOpen || ending || reason === "forced close") return;
    const detail = description instanceof Error ? ` (${description.message})` : "";
    // A connect_error coming right after says it better: let it settle the outcome first.
    setImmediate(() => {
      if (isOpen || ending) return;
      socket.disconnect();
      opened.reject(new CliError(`cannot connect to ${options.url}: ${reason}${detail}`, 1));
      finished.resolve(1);
    });
  });
  socket.on("connect", () => {
    isOpen = true;
    const transport = manager.engine?.transportName ?? "unknown";
    print(
      "*",
      `connected to ${options.url} (namespace ${socket.nsp}, socket id ${socket.id}, transport ${transport})`,
    );
    manager.engine?.on("upgrade", (transport) => {
      // An upgrade under way when disconnecting still completes: not news any more.
      if (socket.connected) print("*", `transport upgraded to ${transport.name}`);
    });
    opened.resolve();
  });
  socket.on("connect_error", (error) => {
    socket.disconnect();
    const message = ending
      ? "interrupted while connecting"
      : describeConnectError(options.url, error);
    opened.reject(new CliError(message, ending ? 130 : 1));
    finished.resolve(ending ? 130 : 1);
  });
  socket.on("disconnect", (reason) => {
    if (!isOpen) return;
    print("*", `disconnected: ${reason}`);
    const normal = reason === "io client disconnect" || reason === "io server disconnect";
    finishAfterClose(normal ? 0 : 1);
  });
  socket.onAny((event: string, ...args: unknown[]) => {
    const last = args[args.length - 1];
    const wantsAck = typeof last === "function";
    const shown = wantsAck ? args.slice(0, -1) : args;
    const note = wantsAck ? " (the server asks for an acknowledgement; none is sent)" : "";
    print("<", `${showEvent(event, shown, options)}${note}`);
  });

  const disconnectWhenIdle = (): void => {
    if (ending && pendingAcks === 0 && socket.connected) socket.disconnect();
  };

  const emit = (rest: string): void => {
    const parsed = parseEmitCommand(rest);
    if (!parsed.ok) {
      print("*", parsed.message);
      return;
    }
    const { event, args } = parsed;
    if (!socket.connected) {
      print("*", "not sent: disconnected");
      return;
    }
    const onAck = (error: Error | null, ...response: unknown[]): void => {
      pendingAcks--;
      if (error !== null && error !== undefined) {
        // Pending acknowledgements fail at once when the connection ends.
        const why = socket.connected ? `within ${options.ackTimeoutMs} ms` : "(disconnected)";
        print("*", `no ack of ${showEventName(event)} ${why}`);
      } else print("<", `ack of ${showEvent(event, response, options)}`);
      disconnectWhenIdle();
    };
    try {
      socket.timeout(options.ackTimeoutMs).emit(event, ...args, onAck);
    } catch (error) {
      print("*", `not sent: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    pendingAcks++;
    if (showSent) print(">", `emit ${showEvent(event, args, options)}`);
  };

  const sendMessage = (text: string): void => {
    if (!socket.connected) {
      print("*", "not sent: disconnected");
      return;
    }
    socket.send(text);
    if (showSent) print(">", `message ${JSON.stringify(text)}`);
  };

  return {
    opened: opened.promise,
    finished: finished.promise,
    handleLine(line) {
      const word = /^\S*/.exec(line)?.[0] ?? "";
      if (word === "emit" || word === "/emit") emit(line.slice(word.length));
      else if (line.startsWith("//")) sendMessage(line.slice(1));
      else if (word === "/close" || word === "/disconnect") this.end();
      else if (word === "/help") print("*", HELP);
      else if (word.startsWith("/"))
        print("*", `unknown command ${word} (/help lists them; //text sends /text)`);
      else sendMessage(line);
    },
    end() {
      if (ending) return;
      ending = true;
      if (!isOpen) {
        // Not connected yet: give up connecting.
        socket.disconnect();
        opened.reject(new CliError("interrupted while connecting", 130));
        finished.resolve(130);
        return;
      }
      disconnectWhenIdle();
    },
    abort() {
      ending = true;
      socket.disconnect();
      manager.engine?.close();
      finished.resolve(isOpen ? 0 : 130);
    },
  };
}

/**
 * The server the hostile suites attack, with a well-behaved socket.io-client connected alongside:
 * every attack must leave that client working (emits and acks still succeed).
 */
import { type ClientSocket, connectClient } from "../socketio-interop/client.js";
import { type RunningSubject, startSubject } from "../socketio-interop/subject.js";

/** Small limits so that exceeding them is cheap; a short heartbeat so idle sessions end soon. */
export const MAX_HTTP_BUFFER_SIZE = 10_000;
export const PING_INTERVAL = 1000;
export const PING_TIMEOUT = 2000;

/** The Engine.IO `connection_error` events, as the server emitted them. */
export interface ConnectionError {
  code: number;
  message: string;
}

export interface HostileSubject extends HostileServer {
  /** Connected before any attack; disconnected by `close()`. */
  goodClient: ClientSocket;
}

/** The hostile server without the client: what the server process fixture runs. */
export interface HostileServer extends RunningSubject {
  /** Socket id -> the reason its "disconnect" event gave. */
  disconnects: Map<string, string>;
  connectionErrors: ConnectionError[];
}

/**
 * The subject with an "echo" event (acks its arguments back) on "/" and "/admin", and
 * `allowRequest` refusing requests that carry `x-forbidden` (403, the header's value as message).
 */
export async function startHostileServer(): Promise<HostileServer> {
  const subject = await startSubject({
    maxHttpBufferSize: MAX_HTTP_BUFFER_SIZE,
    pingInterval: PING_INTERVAL,
    pingTimeout: PING_TIMEOUT,
    allowRequest: (req, fn) => {
      const forbidden = req.headers["x-forbidden"];
      fn(typeof forbidden === "string" ? forbidden : null, forbidden === undefined);
    },
  });
  const disconnects = new Map<string, string>();
  const connectionErrors: ConnectionError[] = [];
  subject.io.engine.on("connection_error", (error: ConnectionError) => {
    connectionErrors.push({ code: error.code, message: error.message });
  });
  for (const name of ["/", "/admin"]) {
    subject.io.of(name).on("connection", (socket) => {
      socket.on("echo", (...args: unknown[]) => {
        const ack = args.pop();
        if (typeof ack === "function") ack(...args);
      });
      socket.on("disconnect", (reason) => disconnects.set(socket.id, reason));
    });
  }
  return { ...subject, disconnects, connectionErrors };
}

/** The hostile server with the well-behaved client connected. */
export async function startHostileSubject(): Promise<HostileSubject> {
  const server = await startHostileServer();
  const goodClient = await connectClient(server.url);
  return {
    ...server,
    goodClient,
    close: async () => {
      goodClient.disconnect();
      await server.close();
    },
  };
}

/**
 * The Socket.IO server under test. The Socket.IO suites (interop, hostile, examples) take `Server`
 * from here, never from `socket.io` or `src` directly.
 *
 * `DUPLEXIO_TEST_SUBJECT=socket.io node test/run.mjs socketio- test/examples` runs the same suites against the
 * `socket.io` package instead: a way to check the tests themselves against the implementation
 * whose behaviour duplexio copies.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as reference from "socket.io";
import * as duplexio from "../../src/index.js";
import { withTimeout } from "../helpers/timing.js";

/** True when the suites run against the `socket.io` package (to check the tests themselves). */
export const subjectIsSocketIoPackage = process.env.DUPLEXIO_TEST_SUBJECT === "socket.io";

/** The Socket.IO server class under test (typed as duplexio's; socket.io's is API-compatible). */
export const Server = subjectIsSocketIoPackage
  ? (reference.Server as unknown as typeof duplexio.Server)
  : duplexio.Server;
export type Server = duplexio.Server;
export type ServerOptions = duplexio.ServerOptions;
export type Socket = duplexio.Socket;

/** A subject server listening on 127.0.0.1 on a free port. */
export interface RunningSubject {
  io: Server;
  http: HttpServer;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Closes the Socket.IO server and the HTTP server, bounded. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server with the subject attached. Requests the Socket.IO server leaves alone are
 * answered 404 `not found` by the HTTP server's own handler, as a user's app would.
 */
export async function startSubject(options: Partial<ServerOptions> = {}): Promise<RunningSubject> {
  // An attached Socket.IO server answers its own path; everything else must reach this handler.
  const http = createServer((_req, res) => {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  });
  const io = new Server(http, options);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    io,
    http,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      withTimeout(
        new Promise<void>((resolve) => {
          io.close(() => resolve());
          http.closeAllConnections();
        }),
        10000,
        "closing the Socket.IO server",
      ),
  };
}

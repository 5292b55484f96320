/**
 * The client the client suites test: duplexio/client's Node entry (src/client/node.ts).
 *
 * `DUPLEXIO_TEST_CLIENT=socket.io-client node test/run.mjs test/client/` runs the same suites
 * with the official socket.io-client v4 instead: a way to check the suites themselves against the
 * client whose behaviour duplexio copies.
 */
import { io as officialIo } from "socket.io-client";
import * as duplexio from "../../../src/client/node.js";

/** True when the suites run with the official socket.io-client. */
export const clientIsOfficial = process.env.DUPLEXIO_TEST_CLIENT === "socket.io-client";

export type {
  ManagerOptions,
  Socket as ClientSocket,
  SocketOptions,
} from "../../../src/client/node.js";

/** `io(url, options)` of the client under test (typed as duplexio's; the official one matches). */
export const io: typeof duplexio.io = clientIsOfficial
  ? (officialIo as unknown as typeof duplexio.io)
  : duplexio.io;

/**
 * The transport classes of the client under test (socket.io-client 4.8's export names), for
 * `transports: [Fetch, WebSocket]`.
 */
export const transportClasses = clientIsOfficial
  ? ((await import("socket.io-client")) as unknown as typeof duplexio)
  : duplexio;

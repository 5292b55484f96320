/**
 * The client the client suites test: duplexio/client's Node entry (src/client/node.ts).
 *
 * `DUPLEXIO_TEST_CLIENT=socket.io-client node test/run.mjs test/client` runs the same suites with
 * the official socket.io-client v4 instead: a way to check the suites themselves against the
 * client whose behaviour duplexio copies.
 */
import { io as officialIo } from "socket.io-client";

/** True when the suites run with the official socket.io-client. */
export const clientIsOfficial = process.env.DUPLEXIO_TEST_CLIENT === "socket.io-client";

export type { ManagerOptions, Socket as ClientSocket, SocketOptions } from "socket.io-client";

/** `io(url, options)` of the client under test. */
export const io = officialIo;

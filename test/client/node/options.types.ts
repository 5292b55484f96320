/**
 * Type-level test of the Node options (compiled by the project's `tsc --noEmit`, never run): what
 * socket.io-client 4.8 users write in production compiles unchanged, and the options' mistakes
 * its types catch fail (each `@ts-expect-error` must find an error).
 */
import { readFileSync } from "node:fs";
import { Agent as HttpsAgent } from "node:https";
import {
  Fetch,
  io,
  type ManagerOptions,
  NodeWebSocket,
  NodeXHR,
  type TransportError,
  WebSocket,
  XHR,
} from "../../../src/client/node.js";

export function productionOptions(): void {
  io("https://example.com", {
    ca: readFileSync("ca.pem"),
    cert: "-----BEGIN CERTIFICATE-----",
    key: [readFileSync("key.pem")],
    pfx: readFileSync("client.p12"),
    passphrase: "secret",
    ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256",
    rejectUnauthorized: false,
    agent: new HttpsAgent({ keepAlive: true }),
    extraHeaders: { authorization: "Bearer abc" },
    transportOptions: {
      polling: { extraHeaders: { "x-polling": "1" } },
      websocket: { extraHeaders: { "x-websocket": "1" }, perMessageDeflate: false },
    },
    requestTimeout: 30_000,
    timestampRequests: true,
    timestampParam: "ts",
    tryAllTransports: true,
    perMessageDeflate: { threshold: 2048 },
    transports: [XHR, WebSocket],
  });
  io({ agent: false, transports: [Fetch, NodeXHR, NodeWebSocket, "polling", "websocket"] });
  const options: ManagerOptions = { transportOptions: {} };
  void options;
  // @ts-expect-error a transport that does not exist
  io({ transports: ["carrier-pigeon"] });
  // @ts-expect-error requestTimeout is a number of milliseconds
  io({ requestTimeout: "30s" });
  // @ts-expect-error transportOptions are per transport name
  io({ transportOptions: { webtransport: {} } });
}

export function errorFields(error: Error): string {
  const transport = error as TransportError;
  const status: number | undefined = transport.status;
  const url: string | undefined = transport.url;
  const reason: string | undefined = transport.reason;
  return `${transport.type} ${status} ${url} ${reason} ${transport.description}`;
}

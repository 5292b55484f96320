/**
 * What differs between the browser build and the Node entry point: the WebSocket implementation
 * given to the engine (none in browsers: the engine takes `globalThis.WebSocket`) and what binary
 * values received from the server become (ArrayBuffer in browsers, Buffer in Node, as with
 * socket.io-client). `node.ts` installs its own when it is loaded; nothing here imports Node.
 */
import { type BinaryConversion, toArrayBuffer } from "./binary.js";
import type { EngineClientOptions } from "./engine/options.js";

/** Platform defaults used by every Manager created afterwards. */
export interface ClientPlatform {
  /** The WebSocket implementation, unless the options give one. */
  WebSocket: EngineClientOptions["WebSocket"];
  /** Turns each received binary attachment into what listeners get. */
  convertBinary: BinaryConversion;
  /** Connections of its own for each polling transport (Node), unless the options give a fetch. */
  scopedFetch?: EngineClientOptions["scopedFetch"];
  /** A cookie jar for each Manager (Node), unless the options give a fetch. */
  cookieJar?: () => NonNullable<EngineClientOptions["cookies"]>;
}

let current: ClientPlatform = { WebSocket: undefined, convertBinary: toArrayBuffer };

/** The platform defaults in force. */
export function clientPlatform(): ClientPlatform {
  return current;
}

/** Replaces the platform defaults (the Node entry point does, once, when loaded). */
export function setClientPlatform(platform: ClientPlatform): void {
  current = platform;
}

/**
 * `PreparedEngineMessage`: one Engine.IO `message` packet encoded once and written to many
 * sessions (Socket.IO broadcasts). Each wire form is built the first time a recipient needs it
 * and then shared: the WebSocket frame (`"4" + text`, or the raw bytes as a binary frame), the
 * base64 forms for clients without binary support, and the polling text.
 * @module
 */

import { encodeBase64 } from "../protocol/base64.js";
import { type BinaryData, toUint8Array } from "../protocol/engine/binary-data.js";
import { type PreparedMessage, prepareMessage } from "../websocket/websocket.js";

/**
 * A message encoded once for many recipients. Give it to `EngineSocket.sendPrepared`; its data
 * must not be modified afterwards.
 *
 * ```ts
 * const message = new PreparedEngineMessage("hello");
 * for (const socket of server.clients.values()) socket.sendPrepared(message);
 * ```
 */
export class PreparedEngineMessage {
  /** The message: text, or bytes. */
  readonly data: string | Uint8Array;
  /** Whether the message is binary. */
  readonly binary: boolean;
  /** Size counted against a session's write buffer (string length or byte length). */
  readonly size: number;

  #frame: PreparedMessage | null = null;
  #base64Frame: PreparedMessage | null = null;
  #v3BinaryFrame: PreparedMessage | null = null;
  #v3Base64Frame: PreparedMessage | null = null;
  #text: string | null = null;
  #v3Text: string | null = null;

  /** @param data text, or bytes (any ArrayBuffer or view; not copied). */
  constructor(data: string | BinaryData) {
    this.data = typeof data === "string" ? data : toUint8Array(data);
    this.binary = typeof data !== "string";
    this.size = this.data.length;
  }

  /**
   * @internal The WebSocket frame for a session of protocol revision `protocol`; without binary
   * support (`b64`) a binary message goes as base64 text.
   */
  websocketFrame(protocol: 3 | 4, supportsBinary: boolean): PreparedMessage {
    const data = this.data;
    if (typeof data === "string") {
      this.#frame ??= prepareMessage(`4${data}`, { binary: false });
      return this.#frame;
    }
    if (protocol === 4) {
      if (supportsBinary) {
        this.#frame ??= prepareMessage(data, { binary: true });
        return this.#frame;
      }
      this.#base64Frame ??= prepareMessage(this.pollingText(4), { binary: false });
      return this.#base64Frame;
    }
    if (supportsBinary) {
      if (this.#v3BinaryFrame === null) {
        // Revision 3 binary frames keep the packet type as their first byte.
        const framed = new Uint8Array(data.length + 1);
        framed[0] = 4;
        framed.set(data, 1);
        this.#v3BinaryFrame = prepareMessage(framed, { binary: true });
      }
      return this.#v3BinaryFrame;
    }
    this.#v3Base64Frame ??= prepareMessage(this.pollingText(3), { binary: false });
    return this.#v3Base64Frame;
  }

  /**
   * @internal The packet as text, as it appears in a polling payload: `"4" + text`, or for
   * bytes `"b" + base64` (revision 4) or `"b4" + base64` (revision 3).
   */
  pollingText(protocol: 3 | 4): string {
    const data = this.data;
    if (typeof data === "string") {
      this.#text ??= `4${data}`;
      return this.#text;
    }
    if (protocol === 4) {
      this.#text ??= `b${encodeBase64(data)}`;
      return this.#text;
    }
    this.#v3Text ??= `b4${encodeBase64(data)}`;
    return this.#v3Text;
  }
}

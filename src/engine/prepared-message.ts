/**
 * `PreparedEngineMessage`: one Engine.IO `message` packet encoded once and written to many
 * sessions (Socket.IO broadcasts). Each wire form (the packet encoders of protocol/engine) is
 * built the first time a recipient needs it and then shared: the WebSocket frame (text, or the
 * raw bytes as a binary frame), the base64 forms for clients without binary support, and the
 * polling text.
 * @module
 */

import { type BinaryData, toUint8Array } from "../protocol/engine/binary-data.js";
import { encodeFrame, encodeText } from "../protocol/engine/packet.js";
import { EnginePacketType } from "../protocol/engine/packet-types.js";
import { encodeFrameV3, encodeTextV3 } from "../protocol/engine/v3-packet.js";
import { type PreparedMessage, prepareMessage } from "../websocket/websocket.js";

const MESSAGE = EnginePacketType.Message;
const TEXT_FRAME = { binary: false } as const;
const BINARY_FRAME = { binary: true } as const;

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
    // Text messages are the same in both revisions.
    if (typeof data === "string") {
      this.#frame ??= prepareMessage(encodeText(MESSAGE, data), TEXT_FRAME);
      return this.#frame;
    }
    if (protocol === 4) {
      if (supportsBinary) {
        this.#frame ??= prepareMessage(encodeFrame(MESSAGE, data, true), BINARY_FRAME);
        return this.#frame;
      }
      this.#base64Frame ??= prepareMessage(this.pollingText(4), TEXT_FRAME);
      return this.#base64Frame;
    }
    if (supportsBinary) {
      this.#v3BinaryFrame ??= prepareMessage(encodeFrameV3(MESSAGE, data, true), BINARY_FRAME);
      return this.#v3BinaryFrame;
    }
    this.#v3Base64Frame ??= prepareMessage(this.pollingText(3), TEXT_FRAME);
    return this.#v3Base64Frame;
  }

  /**
   * @internal The packet as text, as it appears in a polling payload: `"4" + text`, or for
   * bytes `"b" + base64` (revision 4) or `"b4" + base64` (revision 3).
   */
  pollingText(protocol: 3 | 4): string {
    const data = this.data;
    if (protocol === 4 || typeof data === "string") {
      this.#text ??= encodeText(MESSAGE, data);
      return this.#text;
    }
    this.#v3Text ??= encodeTextV3(MESSAGE, data);
    return this.#v3Text;
  }
}

/**
 * The byte forms of cluster messages used by socket.io-adapter's `ClusterAdapter` transports:
 *
 * - whole messages, as the sharded `@socket.io/redis-adapter` publishes them (JSON, or
 *   MessagePack when the data holds binary; receivers tell them apart by the first byte, `{` being
 *   JSON) and as `@socket.io/redis-streams-adapter` publishes its requests and answers
 *   (MessagePack always);
 * - Redis stream entries of `@socket.io/redis-streams-adapter`: string fields `uid`, `nsp`,
 *   `type` (the number as a string) and `data` (JSON, or base64 MessagePack when binary);
 * - its stored sessions: base64 MessagePack of `{ sid, pid, rooms, data }`.
 */
import { decodeBase64, encodeBase64 } from "../base64.js";
import { decodeMsgpack, encodeMsgpack, type MsgpackDecodeOptions } from "../msgpack.js";
import { mayHoldBinary } from "../socketio/attachment-extraction.js";
import {
  type ClusterMessage,
  type ClusterRoom,
  isStreamId,
  parseClusterMessage,
} from "./messages.js";

/** An encoding failure (data MessagePack or JSON cannot represent). */
export interface EncodeError {
  error: string;
}

function toJson(value: unknown): string | EncodeError {
  try {
    return JSON.stringify(value);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Encodes a whole message. `format` "auto" writes JSON unless the data may hold binary values
 * (then MessagePack); "msgpack" always writes MessagePack.
 */
export function encodeClusterMessage(
  message: ClusterMessage,
  format: "auto" | "msgpack",
): Uint8Array | EncodeError {
  if (format === "auto" && !("data" in message && mayHoldBinary(message.data, 0))) {
    const json = toJson(message);
    return typeof json === "string" ? new TextEncoder().encode(json) : json;
  }
  const encoded = encodeMsgpack(message);
  return encoded.ok ? encoded.bytes : { error: encoded.reason };
}

/** Decodes a whole message (JSON or MessagePack); null when malformed. */
export function decodeClusterMessage(
  bytes: Uint8Array,
  options: MsgpackDecodeOptions,
): ClusterMessage | null {
  if (bytes[0] === 0x7b) {
    try {
      return parseClusterMessage(JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      return null;
    }
  }
  const decoded = decodeMsgpack(bytes, options);
  return decoded.ok ? parseClusterMessage(decoded.value) : null;
}

/** The fields of a stream entry. */
export interface StreamEntryFields {
  uid: string;
  nsp: string;
  type: string;
  data?: string;
}

/** Encodes a message as stream entry fields. */
export function encodeStreamEntry(message: ClusterMessage): StreamEntryFields | EncodeError {
  const fields: StreamEntryFields = {
    uid: message.uid,
    nsp: message.nsp,
    type: String(message.type),
  };
  if (!("data" in message)) return fields;
  if (mayHoldBinary(message.data, 0)) {
    const encoded = encodeMsgpack(message.data);
    if (!encoded.ok) return { error: encoded.reason };
    fields.data = encodeBase64(encoded.bytes);
    return fields;
  }
  const json = toJson(message.data);
  if (typeof json !== "string") return json;
  fields.data = json;
  return fields;
}

/** Decodes a stream entry's fields; null when malformed. */
export function decodeStreamEntry(
  fields: Record<string, unknown>,
  options: MsgpackDecodeOptions,
): ClusterMessage | null {
  const { uid, nsp, type, data } = fields;
  let decodedData: unknown;
  if (typeof data === "string") {
    if (data.startsWith("{")) {
      try {
        decodedData = JSON.parse(data);
      } catch {
        return null;
      }
    } else {
      const bytes = decodeBase64(data);
      if (bytes === null) return null;
      const decoded = decodeMsgpack(bytes, options);
      if (!decoded.ok) return null;
      decodedData = decoded.value;
    }
  }
  return parseClusterMessage({ uid, nsp, type, data: decodedData });
}

/** A disconnected socket's session, as stored for connection state recovery. */
export interface StoredSession {
  sid: string;
  pid: string;
  rooms: ClusterRoom[];
  data: unknown;
  /**
   * duplexio's addition: the stream position when the socket connected, where replay starts for
   * a client that received no packet (and so has no offset to send back).
   */
  offset?: string;
}

/** Encodes a session for storage. */
export function encodeSession(session: StoredSession): string | EncodeError {
  const encoded = encodeMsgpack(session);
  return encoded.ok ? encodeBase64(encoded.bytes) : { error: encoded.reason };
}

/** Decodes a stored session; null when malformed. */
export function decodeSession(text: string, options: MsgpackDecodeOptions): StoredSession | null {
  const bytes = decodeBase64(text);
  if (bytes === null) return null;
  const decoded = decodeMsgpack(bytes, options);
  if (!decoded.ok) return null;
  const value = decoded.value as Partial<StoredSession> | null;
  if (typeof value !== "object" || value === null) return null;
  const { sid, pid, rooms, data, offset } = value;
  if (typeof sid !== "string" || typeof pid !== "string" || !Array.isArray(rooms)) return null;
  if (!rooms.every((room) => typeof room === "string" || typeof room === "number")) return null;
  const session: StoredSession = { sid, pid, rooms, data };
  if (isStreamId(offset)) session.offset = offset;
  return session;
}

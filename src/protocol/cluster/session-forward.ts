/**
 * Session forwarding between the nodes of a duplexio cluster (any node serves any Engine.IO
 * request, no sticky sessions): the owner mark carried by session ids, and the frames a node sends
 * to another to relay a polling request and its answer, or the messages of a bridged WebSocket.
 *
 * Pure: shapes, MessagePack encoding, and the checks a decoded frame passes before use (it comes
 * from another process, through Redis or IPC: it may be malformed). duplexio's own format; nodes
 * of socket.io never see it (it travels on channels and IPC tags of its own).
 */
import { decodeMsgpack, encodeMsgpack } from "../msgpack.js";

/**
 * Length of the owner mark at the start of a session id: a node id (16 lowercase hex characters,
 * as the adapters make them).
 */
export const OWNER_MARK_LENGTH = 16;

const NODE_ID = /^[0-9a-f]{16}$/;
/** The random part of a session id (base64url, as the engine makes them: 20 characters). */
const RANDOM_PART = /^[A-Za-z0-9_-]{20}$/;

/**
 * A session id that names its owner: `owner` (a node id) followed by `random` (the engine's
 * unguessable id, 20 base64url characters). 36 characters, where socket.io's are 20: a duplexio
 * node never takes the id of a socket.io node for one of its own.
 */
export function markSessionId(owner: string, random: string): string {
  return owner + random;
}

/** The node that owns session `sid`, when its id carries an owner mark; undefined otherwise. */
export function ownerOfSessionId(sid: string): string | undefined {
  if (sid.length !== OWNER_MARK_LENGTH + 20) return undefined;
  const owner = sid.slice(0, OWNER_MARK_LENGTH);
  if (!NODE_ID.test(owner) || !RANDOM_PART.test(sid.slice(OWNER_MARK_LENGTH))) return undefined;
  return owner;
}

/** Kinds of frames. */
export const ForwardFrameKind = {
  /** A polling request (receiving node to owner). */
  HttpRequest: 1,
  /** The owner's answer to it (owner to receiving node). */
  HttpResponse: 2,
  /** The client of a forwarded request went away before the answer (receiving node to owner). */
  HttpAbort: 3,
  /** A WebSocket upgrade landed on a bridging node, which accepted it (bridge to owner). */
  WsOpen: 4,
  /** A WebSocket message from the client (bridge to owner). */
  WsMessage: 5,
  /** The client's WebSocket closed (bridge to owner). */
  WsClose: 6,
  /** A WebSocket message for the client (owner to bridge). */
  WsOwnerMessage: 7,
  /** The session closes the WebSocket, or refuses it (owner to bridge). */
  WsOwnerClose: 8,
} as const;

export type ForwardFrameKind = (typeof ForwardFrameKind)[keyof typeof ForwardFrameKind];

/** Header lines as name and value pairs (a name may repeat). */
export type HeaderLines = [name: string, value: string][];

/** A frame: `from` is the sending node, `id` names the request or bridge on the node that began it. */
export type ForwardFrame =
  | {
      kind: typeof ForwardFrameKind.HttpRequest;
      from: string;
      id: number;
      method: string;
      url: string;
      headers: HeaderLines;
      body: Uint8Array;
      /** The client's address as the receiving node sees it ("" when unknown). */
      address: string;
    }
  | {
      kind: typeof ForwardFrameKind.HttpResponse;
      from: string;
      id: number;
      status: number;
      headers: HeaderLines;
      body: Uint8Array;
    }
  | { kind: typeof ForwardFrameKind.HttpAbort; from: string; id: number }
  | {
      kind: typeof ForwardFrameKind.WsOpen;
      from: string;
      id: number;
      url: string;
      headers: HeaderLines;
    }
  | {
      kind: typeof ForwardFrameKind.WsMessage | typeof ForwardFrameKind.WsOwnerMessage;
      from: string;
      id: number;
      data: string | Uint8Array;
    }
  | {
      kind: typeof ForwardFrameKind.WsClose | typeof ForwardFrameKind.WsOwnerClose;
      from: string;
      id: number;
    };

/** Encodes a frame (MessagePack); an error for values MessagePack cannot hold. */
export function encodeForwardFrame(frame: ForwardFrame): Uint8Array | { error: string } {
  const encoded = encodeMsgpack(frame, { maxDepth: 4 });
  return encoded.ok ? encoded.bytes : { error: encoded.reason };
}

/** Most header lines a forwarded request or answer may carry (Node's own default is 2000). */
export const MAX_FORWARDED_HEADERS = 2000;

/**
 * Decodes and checks a frame; null when malformed. Binary values are views on `bytes` (no copy);
 * `binary` may turn them into Buffers.
 */
export function decodeForwardFrame(
  bytes: Uint8Array,
  binary?: (bytes: Uint8Array) => Uint8Array,
): ForwardFrame | null {
  const decoded = decodeMsgpack(bytes, { maxDepth: 4, binary });
  if (!decoded.ok) return null;
  const value = decoded.value as Record<string, unknown> | null;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const { kind, from, id } = value;
  if (typeof from !== "string" || !NODE_ID.test(from)) return null;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) return null;
  switch (kind) {
    case ForwardFrameKind.HttpRequest: {
      const { method, url, headers, body, address } = value;
      if (typeof method !== "string" || method.length > 16 || typeof url !== "string") return null;
      if (!isHeaderLines(headers) || !(body instanceof Uint8Array)) return null;
      if (typeof address !== "string" || address.length > 64) return null;
      return { kind, from, id, method, url, headers, body, address };
    }
    case ForwardFrameKind.HttpResponse: {
      const { status, headers, body } = value;
      if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599)
        return null;
      if (!isHeaderLines(headers) || !(body instanceof Uint8Array)) return null;
      return { kind, from, id, status, headers, body };
    }
    case ForwardFrameKind.WsOpen: {
      const { url, headers } = value;
      if (typeof url !== "string" || !isHeaderLines(headers)) return null;
      return { kind, from, id, url, headers };
    }
    case ForwardFrameKind.WsMessage:
    case ForwardFrameKind.WsOwnerMessage: {
      const { data } = value;
      if (typeof data !== "string" && !(data instanceof Uint8Array)) return null;
      return { kind, from, id, data };
    }
    case ForwardFrameKind.HttpAbort:
    case ForwardFrameKind.WsClose:
    case ForwardFrameKind.WsOwnerClose:
      return { kind, from, id };
    default:
      return null;
  }
}

function isHeaderLines(value: unknown): value is HeaderLines {
  if (!Array.isArray(value) || value.length > MAX_FORWARDED_HEADERS) return false;
  for (const line of value) {
    if (!Array.isArray(line) || line.length !== 2) return false;
    if (typeof line[0] !== "string" || typeof line[1] !== "string") return false;
  }
  return true;
}

/**
 * The Redis channel where node `nodeId` receives its forwarding frames (Pub/Sub, sharded or not,
 * and the Streams adapter's Pub/Sub): one channel per node, which socket.io's nodes never use.
 */
export function forwardChannel(prefix: string, nodeId: string): string {
  return `${prefix}-forward#${nodeId}#`;
}

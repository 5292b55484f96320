/**
 * The classic Redis Pub/Sub format of `@socket.io/redis-adapter` 8 (its default `createAdapter`)
 * and `@socket.io/redis-emitter` 5, mapped onto the cluster message model, so that socket.io
 * nodes, the emitter and duplexio nodes share one cluster.
 *
 * Channels, for key prefix `K` (default "socket.io") and namespace `N`:
 * - `K#N#` and `K#N#<room>#`: broadcasts without acknowledgement, MessagePack
 *   `[uid, packet, opts]`; the per-room channel when exactly one room is targeted. Nodes
 *   subscribe to the pattern `K#N#*` and skip rooms they do not have.
 * - `K-request#N#`: every other request, MessagePack or JSON objects with a numeric `type`
 *   (socket.io's `RequestType`, see {@link RequestType}). Receivers tell the two encodings apart
 *   by the first byte (`{` is JSON).
 * - `K-response#N#` and `K-response#N#<uid>#`: answers, to the requester's own channel.
 * - `K-nodes#N#`: duplexio's addition, heartbeats of duplexio nodes (socket.io nodes neither send
 *   nor hear them). Counting its subscribers tells duplexio how many nodes of the cluster are
 *   socket.io's, which answer requests but send no heartbeats.
 *
 * duplexio writes every message in MessagePack (binary values survive; socket.io nodes decode
 * both) and adds its node id (`uid`) to its answers (socket.io nodes ignore it), so that its
 * requests know which node answered.
 */
import { decodeMsgpack, encodeMsgpack, type MsgpackDecodeOptions } from "../msgpack.js";
import {
  type ClusterMessage,
  ClusterMessageType,
  type ClusterResponse,
  parseClusterMessage,
  parseWireOptions,
  parseWirePacket,
} from "./messages.js";

/** socket.io's request types on the request channel. */
export const RequestType = {
  Sockets: 0,
  AllRooms: 1,
  RemoteJoin: 2,
  RemoteLeave: 3,
  RemoteDisconnect: 4,
  RemoteFetch: 5,
  ServerSideEmit: 6,
  Broadcast: 7,
  BroadcastClientCount: 8,
  BroadcastAck: 9,
} as const;

/** The uid `@socket.io/redis-emitter` sends with (or implies). */
export const EMITTER_UID = "emitter";

/** The channels of one namespace. */
export class PubSubChannels {
  /** Broadcasts to the whole namespace. */
  readonly broadcast: string;
  /** The pattern every node subscribes to for broadcasts. */
  readonly broadcastPattern: string;
  /** Requests. */
  readonly request: string;
  /** Answers, shared (socket.io nodes may answer there). */
  readonly response: string;
  /** duplexio's heartbeats. */
  readonly nodes: string;

  constructor(prefix: string, nsp: string) {
    this.broadcast = `${prefix}#${nsp}#`;
    this.broadcastPattern = `${this.broadcast}*`;
    this.request = `${prefix}-request#${nsp}#`;
    this.response = `${prefix}-response#${nsp}#`;
    this.nodes = `${prefix}-nodes#${nsp}#`;
  }

  /** The answers channel of node `uid`. */
  responseFor(uid: string): string {
    return `${this.response}${uid}#`;
  }

  /** The broadcast channel of one room. */
  room(room: string | number): string {
    return `${this.broadcast}${room}#`;
  }

  /**
   * The room a broadcast channel names: "" for the whole namespace, undefined for a channel that
   * is not one of this namespace's broadcast channels.
   */
  roomOf(channel: string): string | undefined {
    if (!channel.startsWith(this.broadcast)) return undefined;
    if (channel.length === this.broadcast.length) return "";
    return channel.endsWith("#") ? channel.slice(this.broadcast.length, -1) : undefined;
  }
}

/** Where and what to publish. */
export interface Publication {
  channel: string;
  payload: Uint8Array;
}

/**
 * Encodes a message (not an answer) for the channel it travels on. Returns an error when it
 * cannot be encoded (data MessagePack cannot represent, e.g. circular): the caller reports it.
 */
export function encodePubSubMessage(
  message: ClusterMessage,
  channels: PubSubChannels,
): Publication | { error: string } {
  let channel = channels.request;
  let body: unknown;
  const { uid } = message;
  switch (message.type) {
    case ClusterMessageType.InitialHeartbeat:
    case ClusterMessageType.Heartbeat:
    case ClusterMessageType.AdapterClose:
      channel = channels.nodes;
      body = { uid, nsp: message.nsp, type: message.type };
      break;
    case ClusterMessageType.Broadcast: {
      const { packet, opts, requestId } = message.data;
      if (requestId === undefined) {
        channel = opts.rooms.length === 1 ? channels.room(opts.rooms[0]!) : channels.broadcast;
        body = [uid, packet, opts];
      } else {
        body = { uid, requestId, type: RequestType.Broadcast, packet, opts };
      }
      break;
    }
    case ClusterMessageType.SocketsJoin:
    case ClusterMessageType.SocketsLeave: {
      const type =
        message.type === ClusterMessageType.SocketsJoin
          ? RequestType.RemoteJoin
          : RequestType.RemoteLeave;
      const { opts, rooms } = message.data;
      body = { uid, type, opts: { rooms: opts.rooms, except: opts.except }, rooms };
      break;
    }
    case ClusterMessageType.DisconnectSockets: {
      const { opts, close } = message.data;
      const wireOpts = { rooms: opts.rooms, except: opts.except };
      body = { uid, type: RequestType.RemoteDisconnect, opts: wireOpts, close };
      break;
    }
    case ClusterMessageType.FetchSockets: {
      const { opts, requestId } = message.data;
      const wireOpts = { rooms: opts.rooms, except: opts.except };
      body = { uid, requestId, type: RequestType.RemoteFetch, opts: wireOpts };
      break;
    }
    case ClusterMessageType.ServerSideEmit: {
      const { packet, requestId } = message.data;
      body = { uid, type: RequestType.ServerSideEmit, data: packet, requestId };
      break;
    }
    case ClusterMessageType.AllRooms:
      body = { uid, requestId: message.data.requestId, type: RequestType.AllRooms };
      break;
    case ClusterMessageType.SocketIds: {
      const { requestId, rooms } = message.data;
      body = { uid, requestId, type: RequestType.Sockets, rooms };
      break;
    }
    default:
      return { error: `message type ${message.type} is an answer: see encodePubSubResponse` };
  }
  const encoded = encodeMsgpack(body);
  return encoded.ok ? { channel, payload: encoded.bytes } : { error: encoded.reason };
}

/** Encodes an answer for node `requesterUid`. */
export function encodePubSubResponse(
  response: ClusterMessage,
  channels: PubSubChannels,
  requesterUid: string,
): Publication | { error: string } {
  const { uid } = response;
  let body: unknown;
  switch (response.type) {
    case ClusterMessageType.FetchSocketsResponse:
      body = { uid, requestId: response.data.requestId, sockets: response.data.sockets };
      break;
    case ClusterMessageType.ServerSideEmitResponse:
      body = {
        uid,
        type: RequestType.ServerSideEmit,
        requestId: response.data.requestId,
        data: response.data.packet,
      };
      break;
    case ClusterMessageType.BroadcastClientCount:
      body = {
        uid,
        type: RequestType.BroadcastClientCount,
        requestId: response.data.requestId,
        clientCount: response.data.clientCount,
      };
      break;
    case ClusterMessageType.BroadcastAck:
      body = {
        uid,
        type: RequestType.BroadcastAck,
        requestId: response.data.requestId,
        packet: response.data.packet,
      };
      break;
    case ClusterMessageType.AllRoomsResponse:
      body = { uid, requestId: response.data.requestId, rooms: response.data.rooms };
      break;
    case ClusterMessageType.SocketIdsResponse:
      body = { uid, requestId: response.data.requestId, sockets: response.data.sockets };
      break;
    default:
      return { error: `message type ${response.type} is not an answer` };
  }
  const encoded = encodeMsgpack(body);
  if (!encoded.ok) return { error: encoded.reason };
  return { channel: channels.responseFor(requesterUid), payload: encoded.bytes };
}

/** JSON when the first byte is "{", MessagePack otherwise (socket.io's rule). */
function decodeEither(bytes: Uint8Array, options: MsgpackDecodeOptions): unknown {
  if (bytes[0] === 0x7b) {
    try {
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return undefined;
    }
  }
  const decoded = decodeMsgpack(bytes, options);
  return decoded.ok ? decoded.value : undefined;
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Decodes a message of a broadcast channel (`[uid, packet, opts]`). Returns null when malformed
 * or for another namespace.
 */
export function decodePubSubBroadcast(
  bytes: Uint8Array,
  nsp: string,
  options: MsgpackDecodeOptions,
): ClusterMessage | null {
  const decoded = decodeMsgpack(bytes, options);
  if (!decoded.ok || !Array.isArray(decoded.value) || decoded.value.length < 3) return null;
  const [uid, rawPacket, rawOpts] = decoded.value as unknown[];
  if (typeof uid !== "string" || !isObject(rawPacket)) return null;
  // The emitter and older nodes leave out the main namespace.
  const packetNsp = rawPacket.nsp ?? "/";
  if (packetNsp !== nsp) return null;
  const packet = parseWirePacket(rawPacket, nsp);
  const opts = parseWireOptions(rawOpts);
  if (packet === null || opts === null) return null;
  return parseClusterMessage({
    uid,
    nsp,
    type: ClusterMessageType.Broadcast,
    data: { packet, opts },
  });
}

/** Decodes a message of the request channel; null when malformed or of an unknown type. */
export function decodePubSubRequest(
  bytes: Uint8Array,
  nsp: string,
  options: MsgpackDecodeOptions,
): ClusterMessage | null {
  const request = decodeEither(bytes, options);
  if (!isObject(request)) return null;
  // The emitter's requests carry no uid.
  const uid = typeof request.uid === "string" ? request.uid : EMITTER_UID;
  const { requestId } = request;
  const envelope = { uid, nsp };
  switch (request.type) {
    case RequestType.Sockets:
      return parseClusterMessage({
        ...envelope,
        type: ClusterMessageType.SocketIds,
        data: { requestId, rooms: request.rooms ?? [] },
      });
    case RequestType.AllRooms:
      return parseClusterMessage({
        ...envelope,
        type: ClusterMessageType.AllRooms,
        data: { requestId },
      });
    case RequestType.RemoteJoin:
    case RequestType.RemoteLeave: {
      // socket.io's older single-socket form ({ sid, room }) is the same as rooms [sid].
      const opts = request.opts ?? { rooms: [request.sid], except: [] };
      const rooms = request.opts ? request.rooms : [request.room];
      const type =
        request.type === RequestType.RemoteJoin
          ? ClusterMessageType.SocketsJoin
          : ClusterMessageType.SocketsLeave;
      return parseClusterMessage({ ...envelope, type, data: { opts, rooms } });
    }
    case RequestType.RemoteDisconnect: {
      const opts = request.opts ?? { rooms: [request.sid], except: [] };
      return parseClusterMessage({
        ...envelope,
        type: ClusterMessageType.DisconnectSockets,
        data: { opts, close: request.close },
      });
    }
    case RequestType.RemoteFetch:
      return parseClusterMessage({
        ...envelope,
        type: ClusterMessageType.FetchSockets,
        data: { opts: request.opts, requestId },
      });
    case RequestType.ServerSideEmit:
      return parseClusterMessage({
        ...envelope,
        type: ClusterMessageType.ServerSideEmit,
        data:
          requestId === undefined ? { packet: request.data } : { packet: request.data, requestId },
      });
    case RequestType.Broadcast:
      if (!isObject(request.packet)) return null;
      return parseClusterMessage({
        ...envelope,
        type: ClusterMessageType.Broadcast,
        data: { packet: { ...request.packet, nsp }, opts: request.opts, requestId },
      });
    default:
      return null;
  }
}

/**
 * Decodes an answer. Its kind comes from its `type` when it has one, else from the request it
 * answers (`kindOf(requestId)`: fetchSockets and the older sockets() answers look alike). Answers
 * of socket.io nodes carry no uid: `uid` is then "" (an anonymous answer).
 */
export function decodePubSubResponse(
  bytes: Uint8Array,
  nsp: string,
  options: MsgpackDecodeOptions,
  kindOf: (requestId: string) => ClusterMessageType | undefined,
): ClusterResponse | null {
  const response = decodeEither(bytes, options);
  if (!isObject(response) || typeof response.requestId !== "string") return null;
  const { requestId } = response;
  const uid = typeof response.uid === "string" ? response.uid : "";
  let message: unknown;
  switch (response.type) {
    case RequestType.ServerSideEmit:
      message = {
        type: ClusterMessageType.ServerSideEmitResponse,
        data: { requestId, packet: response.data },
      };
      break;
    case RequestType.BroadcastClientCount:
      message = {
        type: ClusterMessageType.BroadcastClientCount,
        data: { requestId, clientCount: response.clientCount },
      };
      break;
    case RequestType.BroadcastAck:
      message = {
        type: ClusterMessageType.BroadcastAck,
        data: { requestId, packet: response.packet },
      };
      break;
    default:
      switch (kindOf(requestId)) {
        case ClusterMessageType.FetchSockets:
          message = {
            type: ClusterMessageType.FetchSocketsResponse,
            data: { requestId, sockets: response.sockets },
          };
          break;
        case ClusterMessageType.AllRooms:
          message = {
            type: ClusterMessageType.AllRoomsResponse,
            data: { requestId, rooms: response.rooms },
          };
          break;
        case ClusterMessageType.SocketIds:
          message = {
            type: ClusterMessageType.SocketIdsResponse,
            data: { requestId, sockets: response.sockets },
          };
          break;
        default:
          return null;
      }
  }
  // parseClusterMessage needs a uid: anonymous answers get a placeholder, then "" again.
  const parsed = parseClusterMessage({ uid: uid || "?", nsp, ...(message as Obj) });
  if (parsed === null) return null;
  if (uid === "") parsed.uid = "";
  return parsed as ClusterResponse;
}

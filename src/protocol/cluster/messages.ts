/**
 * The messages Socket.IO servers of one cluster exchange: the model of socket.io-adapter 2.5's
 * `ClusterAdapter` (types 1 to 13), which `@socket.io/redis-streams-adapter`, the sharded
 * `@socket.io/redis-adapter` and `@socket.io/cluster-adapter` put on the wire as they are, and
 * which duplexio's adapters all work with (the classic Redis Pub/Sub format of
 * `@socket.io/redis-adapter` maps onto it, see `redis-pubsub.ts`).
 *
 * Pure: shapes, and the checks a decoded message must pass before it is acted on (whatever
 * arrives from Redis or from another process may be malformed or hostile; a message that fails
 * is dropped, never half-applied). The byte encodings live with each transport's format.
 */

/** A room name. */
export type ClusterRoom = string | number;

/** Message types. 1 to 13 are socket.io-adapter's; 101 to 104 are duplexio's (see below). */
export const ClusterMessageType = {
  /** A node starts: every node that hears it answers with a heartbeat. */
  InitialHeartbeat: 1,
  /** "I am alive" (sent when a node has published nothing else for a heartbeat interval). */
  Heartbeat: 2,
  /** A packet for the matching sockets of every node (with `requestId`: acknowledgements asked). */
  Broadcast: 3,
  SocketsJoin: 4,
  SocketsLeave: 5,
  DisconnectSockets: 6,
  FetchSockets: 7,
  FetchSocketsResponse: 8,
  ServerSideEmit: 9,
  ServerSideEmitResponse: 10,
  /** How many of its clients a node sent a broadcast with acknowledgement to. */
  BroadcastClientCount: 11,
  /** One client's acknowledgement of a broadcast. */
  BroadcastAck: 12,
  /** A node's adapter closes: forget it at once. */
  AdapterClose: 13,
  /**
   * The rooms of every node (`allRooms()` of `@socket.io/redis-adapter`), and the socket ids in
   * some rooms (its older `sockets()` request): requests of the classic Redis format only.
   */
  AllRooms: 101,
  AllRoomsResponse: 102,
  SocketIds: 103,
  SocketIdsResponse: 104,
  /**
   * duplexio's: a node is restoring the session `pid` (connection state recovery): the node that
   * still holds its socket (the client came back before that node noticed it left) lets it go and
   * stores its session, then answers.
   */
  ClaimSession: 105,
  ClaimSessionResponse: 106,
} as const;

/** One of the message types. */
export type ClusterMessageType = (typeof ClusterMessageType)[keyof typeof ClusterMessageType];

/**
 * Modifiers of a broadcast (socket.io's `BroadcastFlags`): set by the server's API, and sent as
 * they are to the other nodes of a cluster.
 */
export interface BroadcastFlags {
  /** Drop the packet for clients whose transport is not writable right now. */
  volatile?: boolean;
  /** Allow compression (permessage-deflate or HTTP compression); default true. */
  compress?: boolean;
  /** Only this server's clients (for adapters spanning several servers). */
  local?: boolean;
  /** Set by some callers for adapters that distinguish broadcasts (unused here). */
  broadcast?: boolean;
  /** Set by some callers as a hint that the data holds binary (unused: the encoder finds out). */
  binary?: boolean;
  /** Milliseconds to wait for acknowledgements. */
  timeout?: number;
  /** One recipient expected (an emit with acknowledgement to a RemoteSocket). */
  expectSingleResponse?: boolean;
}

/** Which sockets a message is for, as it travels: arrays, since sets do not serialize. */
export interface WireBroadcastOptions {
  rooms: ClusterRoom[];
  except: ClusterRoom[];
  flags?: BroadcastFlags;
}

/** A Socket.IO packet as it travels between nodes (not yet encoded for clients). */
export interface WirePacket {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

/** A socket of another node, as `fetchSockets()` answers carry it. */
export interface WireSocket {
  id: string;
  handshake: Record<string, unknown>;
  rooms: ClusterRoom[];
  data: unknown;
}

interface Envelope {
  /** The sender's id (per namespace adapter); "emitter" for `@socket.io/redis-emitter`. */
  uid: string;
  /** The namespace. */
  nsp: string;
}

/** Every message: the envelope, the type, and the type's data. */
export type ClusterMessage = Envelope &
  (
    | {
        type:
          | typeof ClusterMessageType.InitialHeartbeat
          | typeof ClusterMessageType.Heartbeat
          | typeof ClusterMessageType.AdapterClose;
      }
    | {
        type: typeof ClusterMessageType.Broadcast;
        data: { packet: WirePacket; opts: WireBroadcastOptions; requestId?: string };
      }
    | {
        type: typeof ClusterMessageType.SocketsJoin | typeof ClusterMessageType.SocketsLeave;
        data: { opts: WireBroadcastOptions; rooms: ClusterRoom[] };
      }
    | {
        type: typeof ClusterMessageType.DisconnectSockets;
        data: { opts: WireBroadcastOptions; close: boolean };
      }
    | {
        type: typeof ClusterMessageType.FetchSockets;
        data: { opts: WireBroadcastOptions; requestId: string };
      }
    | {
        type: typeof ClusterMessageType.FetchSocketsResponse;
        data: { requestId: string; sockets: WireSocket[] };
      }
    | {
        type: typeof ClusterMessageType.ServerSideEmit;
        data: { packet: unknown[]; requestId?: string };
      }
    | {
        type:
          | typeof ClusterMessageType.ServerSideEmitResponse
          | typeof ClusterMessageType.BroadcastAck;
        data: { requestId: string; packet: unknown };
      }
    | {
        type: typeof ClusterMessageType.BroadcastClientCount;
        data: { requestId: string; clientCount: number };
      }
    | { type: typeof ClusterMessageType.AllRooms; data: { requestId: string } }
    | {
        type: typeof ClusterMessageType.AllRoomsResponse;
        data: { requestId: string; rooms: ClusterRoom[] };
      }
    | {
        type: typeof ClusterMessageType.SocketIds;
        data: { requestId: string; rooms: ClusterRoom[] };
      }
    | {
        type: typeof ClusterMessageType.SocketIdsResponse;
        data: { requestId: string; sockets: string[] };
      }
    | { type: typeof ClusterMessageType.ClaimSession; data: { requestId: string; pid: string } }
    | { type: typeof ClusterMessageType.ClaimSessionResponse; data: { requestId: string } }
  );

/** A message of one given type. */
export type ClusterMessageOf<T extends ClusterMessageType> = Extract<ClusterMessage, { type: T }>;

/** The answers to a request (sent to the requesting node only). */
export type ClusterResponse = ClusterMessageOf<
  | typeof ClusterMessageType.FetchSocketsResponse
  | typeof ClusterMessageType.ServerSideEmitResponse
  | typeof ClusterMessageType.BroadcastClientCount
  | typeof ClusterMessageType.BroadcastAck
  | typeof ClusterMessageType.AllRoomsResponse
  | typeof ClusterMessageType.SocketIdsResponse
  | typeof ClusterMessageType.ClaimSessionResponse
>;

const RESPONSE_TYPES: ReadonlySet<number> = new Set([
  ClusterMessageType.FetchSocketsResponse,
  ClusterMessageType.ServerSideEmitResponse,
  ClusterMessageType.BroadcastClientCount,
  ClusterMessageType.BroadcastAck,
  ClusterMessageType.AllRoomsResponse,
  ClusterMessageType.SocketIdsResponse,
  ClusterMessageType.ClaimSessionResponse,
]);

/** Whether `message` answers a request (rather than being one, or a broadcast). */
export function isClusterResponse(message: ClusterMessage): message is ClusterResponse {
  return RESPONSE_TYPES.has(message.type);
}

/** Longest request id accepted (socket.io's are 6 to 16 characters). */
const MAX_REQUEST_ID_LENGTH = 64;
/** Longest node id accepted. */
const MAX_UID_LENGTH = 64;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isRoom(value: unknown): value is ClusterRoom {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

function isRoomList(value: unknown): value is ClusterRoom[] {
  return Array.isArray(value) && value.every(isRoom);
}

function isRequestId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_REQUEST_ID_LENGTH;
}

/**
 * Checks broadcast options as they arrive; a missing `except` (older senders) becomes []. Flags
 * other than an object are dropped.
 */
export function parseWireOptions(value: unknown): WireBroadcastOptions | null {
  if (!isObject(value) || !isRoomList(value.rooms)) return null;
  const except = value.except ?? [];
  if (!isRoomList(except)) return null;
  const opts: WireBroadcastOptions = { rooms: value.rooms, except };
  if (isObject(value.flags)) opts.flags = value.flags as BroadcastFlags;
  return opts;
}

/** Checks a Socket.IO packet as it arrives (the encoder checks the data itself before sending). */
export function parseWirePacket(value: unknown, nsp: string): WirePacket | null {
  if (!isObject(value) || typeof value.type !== "number") return null;
  const id = value.id;
  if (id !== undefined && id !== null && !Number.isSafeInteger(id)) return null;
  const packet: WirePacket = { type: value.type, nsp, data: value.data };
  if (typeof id === "number") packet.id = id;
  return packet;
}

function parseWireSocket(value: unknown): WireSocket | null {
  if (!isObject(value) || typeof value.id !== "string" || !isObject(value.handshake)) return null;
  if (!isRoomList(value.rooms)) return null;
  return { id: value.id, handshake: value.handshake, rooms: value.rooms, data: value.data };
}

/**
 * Checks a decoded message: its envelope, its type and the shape of its data. Returns null for
 * anything else (unknown types included: a newer peer's, or another application's).
 */
export function parseClusterMessage(value: unknown): ClusterMessage | null {
  if (!isObject(value)) return null;
  const { uid, nsp } = value;
  if (typeof uid !== "string" || uid.length === 0 || uid.length > MAX_UID_LENGTH) return null;
  if (typeof nsp !== "string" || !nsp.startsWith("/")) return null;
  // Streams entries carry the type as a string ("3").
  const type = typeof value.type === "string" ? Number(value.type) : value.type;
  const data = value.data;
  const envelope = { uid, nsp };
  switch (type) {
    case ClusterMessageType.InitialHeartbeat:
    case ClusterMessageType.Heartbeat:
    case ClusterMessageType.AdapterClose:
      return { ...envelope, type };
  }
  if (!isObject(data)) return null;
  switch (type) {
    case ClusterMessageType.Broadcast: {
      const packet = parseWirePacket(data.packet, nsp);
      const opts = parseWireOptions(data.opts);
      if (packet === null || opts === null) return null;
      if (data.requestId === undefined) return { ...envelope, type, data: { packet, opts } };
      if (!isRequestId(data.requestId)) return null;
      return { ...envelope, type, data: { packet, opts, requestId: data.requestId } };
    }
    case ClusterMessageType.SocketsJoin:
    case ClusterMessageType.SocketsLeave: {
      const opts = parseWireOptions(data.opts);
      if (opts === null || !isRoomList(data.rooms)) return null;
      return { ...envelope, type, data: { opts, rooms: data.rooms } };
    }
    case ClusterMessageType.DisconnectSockets: {
      const opts = parseWireOptions(data.opts);
      if (opts === null) return null;
      return { ...envelope, type, data: { opts, close: data.close === true } };
    }
    case ClusterMessageType.FetchSockets: {
      const opts = parseWireOptions(data.opts);
      if (opts === null || !isRequestId(data.requestId)) return null;
      return { ...envelope, type, data: { opts, requestId: data.requestId } };
    }
    case ClusterMessageType.FetchSocketsResponse: {
      if (!isRequestId(data.requestId) || !Array.isArray(data.sockets)) return null;
      const sockets: WireSocket[] = [];
      for (const item of data.sockets) {
        const socket = parseWireSocket(item);
        if (socket === null) return null;
        sockets.push(socket);
      }
      return { ...envelope, type, data: { requestId: data.requestId, sockets } };
    }
    case ClusterMessageType.ServerSideEmit: {
      if (!Array.isArray(data.packet) || typeof data.packet[0] !== "string") return null;
      if (data.requestId === undefined) return { ...envelope, type, data: { packet: data.packet } };
      if (!isRequestId(data.requestId)) return null;
      return { ...envelope, type, data: { packet: data.packet, requestId: data.requestId } };
    }
    case ClusterMessageType.ServerSideEmitResponse:
    case ClusterMessageType.BroadcastAck:
      if (!isRequestId(data.requestId)) return null;
      return { ...envelope, type, data: { requestId: data.requestId, packet: data.packet } };
    case ClusterMessageType.BroadcastClientCount: {
      const count = data.clientCount;
      if (!isRequestId(data.requestId) || !Number.isSafeInteger(count) || (count as number) < 0) {
        return null;
      }
      return {
        ...envelope,
        type,
        data: { requestId: data.requestId, clientCount: count as number },
      };
    }
    case ClusterMessageType.AllRooms:
      if (!isRequestId(data.requestId)) return null;
      return { ...envelope, type, data: { requestId: data.requestId } };
    case ClusterMessageType.AllRoomsResponse:
    case ClusterMessageType.SocketIds:
      if (!isRequestId(data.requestId) || !isRoomList(data.rooms)) return null;
      return { ...envelope, type, data: { requestId: data.requestId, rooms: data.rooms } };
    case ClusterMessageType.SocketIdsResponse: {
      const sockets = data.sockets;
      if (!isRequestId(data.requestId) || !Array.isArray(sockets)) return null;
      if (!sockets.every((id) => typeof id === "string")) return null;
      return { ...envelope, type, data: { requestId: data.requestId, sockets } };
    }
    case ClusterMessageType.ClaimSession:
      if (!isRequestId(data.requestId) || typeof data.pid !== "string") return null;
      return { ...envelope, type, data: { requestId: data.requestId, pid: data.pid } };
    case ClusterMessageType.ClaimSessionResponse:
      if (!isRequestId(data.requestId)) return null;
      return { ...envelope, type, data: { requestId: data.requestId } };
    default:
      return null;
  }
}

/** Orders two Redis stream ids ("<ms>-<seq>"): negative, 0 or positive, as `a` is before `b`. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = "0", aSeq = "0"] = a.split("-");
  const [bMs = "0", bSeq = "0"] = b.split("-");
  // Digits only, at most 20 of them: compare by length, then as text (no float rounding).
  return compareDigits(aMs, bMs) || compareDigits(aSeq, bSeq);
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether `text` is a Redis stream id ("<ms>-<seq>"). */
export function isStreamId(text: unknown): text is string {
  return typeof text === "string" && /^\d{1,20}-\d{1,20}$/.test(text);
}

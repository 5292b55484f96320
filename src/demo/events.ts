/**
 * The events between the demo's pages and its server: the Socket.IO "wire contract" of the chat
 * (namespace "/") and of the dashboard (namespace "/dashboard").
 *
 * What clients send is typed `unknown` on purpose: a browser console or a script can send any
 * value in place of a room name or an acknowledgement callback, so the server checks every
 * argument (see validation.ts) instead of trusting a type. The shapes the pages send are described
 * in each comment.
 * @module
 */

/** One chat message as the server stamps and broadcasts it. */
export interface ChatMessage {
  /** Unique within this server's life; lets the page drop a message it already shows. */
  id: string;
  room: string;
  /** The sender's nickname. */
  from: string;
  /** As typed: the page must display it as text, never as HTML. */
  text: string;
  /** When the server received it, in milliseconds since the epoch. */
  at: number;
}

/** An acknowledgement's answer: the result, or a message for the user. */
export type Reply<T extends object = object> = ({ ok: true } & T) | { ok: false; error: string };

/** Who is in a room now (sent to the room whenever it changes). */
export interface Presence {
  room: string;
  /** Nicknames, sorted, each once even when a person has several tabs open. */
  members: string[];
}

/** Events the chat page sends (namespace "/"), as received: untrusted. */
export interface ChatClientEvents {
  /** `join(room: string, ack(reply: Reply<Presence>))`: enters a room. */
  join: (room: unknown, ack: unknown) => void;
  /** `leave(room: string, ack(reply: Reply))`: leaves a room. */
  leave: (room: unknown, ack: unknown) => void;
  /** `message({ room: string, text: string }, ack(reply: Reply<{ message: ChatMessage }>))`. */
  message: (request: unknown, ack: unknown) => void;
  /** `typing(room: string, typing: boolean)`: the page sends it at most every few seconds. */
  typing: (room: unknown, typing: unknown) => void;
}

/** The figures the dashboard shows, pushed every second on "/dashboard" (and in /metrics). */
export interface DashboardSnapshot {
  /** When it was taken, in milliseconds since the epoch. */
  at: number;
  uptimeSeconds: number;
  /** Connections now: Socket.IO ones by their current transport, and plain WebSockets. */
  clients: { polling: number; websocket: number; plainWebSocket: number };
  /** Each namespace's sockets and rooms (the per-socket private rooms left out). */
  namespaces: {
    name: string;
    sockets: number;
    /** The largest rooms first, at most {@link MAX_ROOMS_IN_SNAPSHOT}. */
    rooms: { name: string; members: number }[];
    /** How many rooms there are in all. */
    roomCount: number;
  }[];
  /** Per second, over the last interval. */
  rates: { messagesIn: number; messagesOut: number; bytesIn: number; bytesOut: number };
  /** Since the server started. */
  totals: { messagesIn: number; messagesOut: number; bytesIn: number; bytesOut: number };
  /** `process.memoryUsage()`, in bytes. */
  memory: { rss: number; heapUsed: number; heapTotal: number };
  /** Event-loop delay over the last interval, in milliseconds. */
  eventLoopDelayMs: { mean: number; p99: number; max: number };
  /** The servers sharing the chat (just this one without `--redis`). */
  cluster: ClusterSnapshot;
}

/** One server of the cluster, as the servers tell each other every snapshot interval. */
export interface NodeSummary {
  /** A random id of the server process. */
  id: string;
  /** Its chat page's address. */
  url: string;
  /** Socket.IO and plain WebSocket clients connected to it. */
  clients: number;
  messagesOutPerSecond: number;
  /** Its resident memory, in bytes. */
  rss: number;
}

/** The cluster as one server sees it. */
export interface ClusterSnapshot {
  /** How the servers are joined: "in-memory" (one server) or "redis-streams". */
  adapter: "in-memory" | "redis-streams" | "cluster";
  /** Whether the link to the other servers is up ("single" for one server). */
  state: "single" | "up" | "down";
  /** This server first, then the others heard from recently. */
  nodes: NodeSummary[];
  /** Messages exchanged with the other servers since the start, all namespaces together. */
  crossNode: { published: number; received: number; dropped: number };
}

/** Most rooms listed per namespace in a snapshot: a page creating thousands stays cheap to show. */
export const MAX_ROOMS_IN_SNAPSHOT = 20;

/** Events the server sends on both namespaces. */
export interface DemoServerEvents {
  /** A message of a room the socket is in. */
  message: (message: ChatMessage) => void;
  /** The members of a room changed. */
  presence: (presence: Presence) => void;
  /** Someone in the room started or stopped typing. */
  typing: (state: { room: string; nickname: string; typing: boolean }) => void;
  /** The periodic push: the server's clock, every few seconds, to everyone. */
  tick: (tick: { at: number }) => void;
  /** Something the user should see that answers no request of theirs. */
  notice: (notice: { text: string }) => void;
  /** Sent once on connection: who the server thinks you are, and your rooms. */
  welcome: (welcome: { nickname: string; rooms: string[]; recovered: boolean }) => void;
  /** The dashboard's figures ("/dashboard" only). */
  snapshot: (snapshot: DashboardSnapshot) => void;
}

/** Events between the servers of a cluster (`serverSideEmit`). */
export interface DemoClusterEvents {
  /** A server's figures, every snapshot interval. */
  node: (summary: NodeSummary) => void;
}

/** What the server keeps per socket (restored with the socket on a recovered reconnection). */
export interface ChatSocketData {
  /** Checked by the connection middleware; empty on the dashboard namespace. */
  nickname: string;
}

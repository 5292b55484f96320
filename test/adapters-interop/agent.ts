/**
 * The node agent: what a Socket.IO server of the interop clusters runs besides its adapter, the
 * same for duplexio and socket.io servers, in the test process or in a `node:cluster` worker.
 *
 * - Its clients ("/" and "/nsp"): `socket.data.node` is the node's name; a client joins rooms by
 *   emitting "join" (acknowledged once joined).
 * - Events between servers: "whoami" answers the node's name (for `serverSideEmitWithAck`),
 *   "note" is recorded.
 * - A control namespace, "/control": the test drives the node by emitting `("op", name, args,
 *   ack)` (see {@link AgentOps}); the ack gets `{ ok: true, value }` or `{ ok: false, error }`.
 *   Going through a Socket.IO connection, the same test body drives nodes in this process and in
 *   worker processes.
 */
import type { Room, Server } from "../../src/index.js";

/** The main namespace and the other one the clients use. */
export const NAMESPACES = ["/", "/nsp"] as const;

/** Which sockets an operation targets (as `io.of(nsp).to(rooms).except(except)`). */
export interface Target {
  nsp?: string;
  rooms?: Room[];
  except?: Room[];
  local?: boolean;
  /** `timeout(ms)` of the operator (acknowledgements, requests). */
  timeout?: number;
}

/** A socket as `fetchSockets()` returned it, as the control channel carries it. */
export interface FetchedSocket {
  id: string;
  rooms: Room[];
  data: unknown;
  /** Whether it is a socket of the node that fetched (a local instance). */
  local: boolean;
}

/** The result of a `fetchSockets()`, with the adapter's `ClusterAnswer` when it gave one. */
export interface FetchResult {
  sockets: FetchedSocket[];
  complete?: boolean;
  missingNodes?: number;
}

/** The operations of the control channel, by name: their argument and their result. */
export interface AgentOps {
  emit: [Target & { event: string; args: unknown[] }, null];
  emitWithAck: [Target & { event: string; args: unknown[] }, unknown[]];
  fetchSockets: [Target, FetchResult];
  serverSideEmit: [{ nsp?: string; event: string; args: unknown[] }, null];
  serverSideEmitWithAck: [
    { nsp?: string; event: string; args: unknown[]; timeout?: number },
    { responses: unknown[]; complete?: boolean; missingNodes?: number },
  ];
  socketsJoin: [Target & { join: Room[] }, null];
  socketsLeave: [Target & { leave: Room[] }, null];
  disconnectSockets: [Target & { close?: boolean }, null];
  remoteEmit: [{ nsp?: string; id: string; event: string; args: unknown[] }, { local: boolean }];
  remoteEmitWithAck: [
    { nsp?: string; id: string; event: string; args: unknown[]; timeout: number },
    unknown,
  ];
  serverCount: [{ nsp?: string }, number];
  localSockets: [{ nsp?: string }, { id: string; rooms: Room[]; recovered: boolean }[]];
  notes: [{ nsp?: string }, unknown[][]];
}

export type OpName = keyof AgentOps;

/** What the control channel acknowledges. */
export type OpReply<T> = { ok: true; value: T } | { ok: false; error: string };

// What the agent uses of a namespace and its operators, the same for duplexio and socket.io (a
// socket.io Server is passed in as duplexio's type: the APIs match).
type Namespace = ReturnType<Server["of"]>;
type Operator = ReturnType<Namespace["to"]>;

function select(io: Server, target: Target): Operator {
  let op: Operator = io.of(target.nsp ?? "/").except(target.except ?? []);
  if (target.rooms !== undefined && target.rooms.length > 0) op = op.to(target.rooms);
  if (target.local === true) op = op.local;
  if (target.timeout !== undefined) op = op.timeout(target.timeout) as unknown as Operator;
  return op;
}

function answerOf(result: object): { complete?: boolean; missingNodes?: number } {
  const { complete, missingNodes } = result as { complete?: unknown; missingNodes?: unknown };
  return typeof complete === "boolean" && typeof missingNodes === "number"
    ? { complete, missingNodes }
    : {};
}

type Emitter = { emit(event: string, ...args: unknown[]): boolean };
type AckEmitter = { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };

async function run(io: Server, notes: Map<string, unknown[][]>, op: string, arg: never) {
  switch (op as OpName) {
    case "emit": {
      const a = arg as AgentOps["emit"][0];
      (select(io, a) as unknown as Emitter).emit(a.event, ...a.args);
      return null;
    }
    case "emitWithAck": {
      const a = arg as AgentOps["emitWithAck"][0];
      return (select(io, a) as unknown as AckEmitter).emitWithAck(a.event, ...a.args);
    }
    case "fetchSockets": {
      const a = arg as AgentOps["fetchSockets"][0];
      const local = io.of(a.nsp ?? "/").sockets;
      const sockets = await select(io, a).fetchSockets();
      const result: FetchResult = {
        sockets: sockets.map((socket) => ({
          id: socket.id,
          rooms: [...socket.rooms],
          data: socket.data,
          local: local.get(socket.id) === (socket as unknown),
        })),
        ...answerOf(sockets),
      };
      return result;
    }
    case "serverSideEmit": {
      const a = arg as AgentOps["serverSideEmit"][0];
      const nsp = io.of(a.nsp ?? "/") as unknown as { serverSideEmit(...args: unknown[]): void };
      nsp.serverSideEmit(a.event, ...a.args);
      return null;
    }
    case "serverSideEmitWithAck": {
      const a = arg as AgentOps["serverSideEmitWithAck"][0];
      let nsp = io.of(a.nsp ?? "/") as unknown as {
        timeout?(ms: number): unknown;
        serverSideEmitWithAck(...args: unknown[]): Promise<unknown[]>;
      };
      if (a.timeout !== undefined && typeof nsp.timeout === "function") {
        nsp = nsp.timeout(a.timeout) as typeof nsp;
      }
      const responses = await nsp.serverSideEmitWithAck(a.event, ...a.args);
      return { responses: [...responses], ...answerOf(responses) };
    }
    case "socketsJoin": {
      const a = arg as AgentOps["socketsJoin"][0];
      select(io, a).socketsJoin(a.join);
      return null;
    }
    case "socketsLeave": {
      const a = arg as AgentOps["socketsLeave"][0];
      select(io, a).socketsLeave(a.leave);
      return null;
    }
    case "disconnectSockets": {
      const a = arg as AgentOps["disconnectSockets"][0];
      select(io, a).disconnectSockets(a.close ?? false);
      return null;
    }
    case "remoteEmit": {
      const a = arg as AgentOps["remoteEmit"][0];
      const nsp = io.of(a.nsp ?? "/");
      const socket = (await nsp.fetchSockets()).find((s) => s.id === a.id);
      if (socket === undefined) throw new Error(`no socket ${a.id}`);
      (socket as unknown as Emitter).emit(a.event, ...a.args);
      return { local: nsp.sockets.get(a.id) === (socket as unknown) };
    }
    case "remoteEmitWithAck": {
      const a = arg as AgentOps["remoteEmitWithAck"][0];
      const socket = (await io.of(a.nsp ?? "/").fetchSockets()).find((s) => s.id === a.id);
      if (socket === undefined) throw new Error(`no socket ${a.id}`);
      const op = socket.timeout(a.timeout) as unknown as AckEmitter;
      return op.emitWithAck(a.event, ...a.args);
    }
    case "serverCount": {
      const a = arg as AgentOps["serverCount"][0];
      return io.of(a.nsp ?? "/").adapter.serverCount();
    }
    case "localSockets": {
      const a = arg as AgentOps["localSockets"][0];
      return [...io.of(a.nsp ?? "/").sockets.values()].map((socket) => ({
        id: socket.id,
        rooms: [...socket.rooms],
        recovered: socket.recovered,
      }));
    }
    case "notes": {
      const a = arg as AgentOps["notes"][0];
      return notes.get(a.nsp ?? "/") ?? [];
    }
    default:
      throw new Error(`unknown op ${op}`);
  }
}

/**
 * Installs the agent on `io` (a duplexio server, or a socket.io one cast to duplexio's type).
 * Call it before the clients connect.
 */
export function installAgent(io: Server, nodeName: string): void {
  const notes = new Map<string, unknown[][]>();
  for (const name of NAMESPACES) {
    const nsp = io.of(name);
    nsp.on("connection", (socket) => {
      socket.data = { node: nodeName };
      socket.on("join", (rooms: Room[], ack: () => void) => {
        void Promise.resolve(socket.join(rooms)).then(() => ack());
      });
    });
    const received: unknown[][] = [];
    notes.set(name, received);
    const untyped = nsp as unknown as {
      on(event: string, listener: (...a: unknown[]) => void): void;
    };
    untyped.on("whoami", (...args: unknown[]) => {
      const ack = args.pop();
      if (typeof ack === "function") ack(`${nodeName}`);
    });
    untyped.on("note", (...args: unknown[]) => {
      received.push(args);
    });
  }
  io.of("/control").on("connection", (socket) => {
    socket.on("op", (op: string, arg: never, ack: (reply: OpReply<unknown>) => void) => {
      run(io, notes, op, arg).then(
        (value) => ack({ ok: true, value: value ?? null }),
        (error: unknown) => ack({ ok: false, error: String((error as Error)?.message ?? error) }),
      );
    });
  });
}

/**
 * The default adapter when connection state recovery is on: the in-memory adapter plus a bounded
 * store of broadcast packets and disconnected sessions (socket.io-adapter's SessionAwareAdapter
 * behaviour).
 *
 * Offsets: every stored packet gets one, appended as the last argument of its event (socket.io's
 * format, which its clients expect): `<adapter prefix><sequence number in base 36>`. A client sends
 * back the last offset it processed; the packets after it are replayed.
 */
import { randomBytes } from "node:crypto";
import { type OutgoingSocketPacket, SocketPacketType } from "../protocol/socketio/index.js";
import {
  Adapter,
  type AdapterNamespace,
  type BroadcastOptions,
  type PrivateSessionId,
  type Room,
  type Session,
  type SessionToPersist,
} from "./adapter.js";
import { DEFAULT_RECOVERY, type ResolvedConnectionStateRecovery } from "./options.js";
import { encodedSize, encodeOrThrow } from "./packet-encoding.js";

interface StoredPacket {
  readonly emittedAt: number;
  readonly data: unknown[];
  readonly rooms: ReadonlySet<Room>;
  readonly except: ReadonlySet<Room> | undefined;
  readonly size: number;
}

interface StoredSession extends SessionToPersist {
  readonly disconnectedAt: number;
}

/** Longest pause between sweeps of expired sessions and packets. */
const MAX_SWEEP_INTERVAL = 60_000;
/** Dropped entries at the head of the packet list beyond which the list is compacted. */
const COMPACT_THRESHOLD = 1024;

/**
 * In-memory adapter with connection state recovery. Broadcast events without acknowledgement and
 * not volatile get an offset and are kept (within the limits of the server's
 * `connectionStateRecovery` options); sessions of sockets that lost their connection are kept
 * for `maxDisconnectionDuration`.
 */
export class SessionAwareAdapter extends Adapter {
  readonly #limits: ResolvedConnectionStateRecovery;
  readonly #prefix = randomBytes(6).toString("base64url");
  readonly #sessions = new Map<PrivateSessionId, StoredSession>();
  /** Stored packets; the live ones start at #head and have sequence numbers from #firstSeq. */
  #packets: StoredPacket[] = [];
  #head = 0;
  #firstSeq = 0;
  #nextSeq = 0;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(nsp: AdapterNamespace) {
    super(nsp);
    this.#limits = nsp.server.opts.connectionStateRecovery ?? DEFAULT_RECOVERY;
    const interval = Math.max(
      1000,
      Math.min(MAX_SWEEP_INTERVAL, this.#limits.maxDisconnectionDuration),
    );
    this.#timer = setInterval(() => this.#sweep(Date.now()), interval);
    // Sweeping is housekeeping: it must not keep the process alive.
    this.#timer.unref();
  }

  /** Number of packets currently kept for replay. */
  get bufferedPackets(): number {
    return this.#packets.length - this.#head;
  }

  /** Bytes of the packets currently kept for replay. */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** Number of disconnected sessions currently kept. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  override close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sessions.clear();
    this.#packets = [];
    this.#head = 0;
    this.#firstSeq = this.#nextSeq;
    this.#bytes = 0;
  }

  override broadcast(packet: OutgoingSocketPacket, opts: BroadcastOptions): void {
    // Packets with an acknowledgement are not kept (the callback cannot be replayed), nor
    // volatile ones (they may be lost by definition).
    const data = packet.data;
    if (
      packet.type !== SocketPacketType.Event ||
      packet.id !== undefined ||
      opts.flags?.volatile === true ||
      !Array.isArray(data)
    ) {
      super.broadcast(packet, opts);
      return;
    }
    const seq = this.#nextSeq;
    data.push(this.#prefix + seq.toString(36));
    packet.nsp = this.nsp.name;
    let parts: ReturnType<typeof encodeOrThrow>;
    try {
      parts = encodeOrThrow(packet);
    } catch (error) {
      data.pop();
      throw error;
    }
    this.#nextSeq = seq + 1;
    const now = Date.now();
    const size = encodedSize(parts);
    this.#packets.push({ emittedAt: now, data, rooms: opts.rooms, except: opts.except, size });
    this.#bytes += size;
    this.#evictPackets(now);
    this.broadcastEncoded(packet, parts, opts);
  }

  override persistSession(session: SessionToPersist): void {
    const now = Date.now();
    this.#sweepSessions(now);
    // Re-inserted so that the map stays ordered by disconnection time.
    this.#sessions.delete(session.pid);
    this.#sessions.set(session.pid, { ...session, disconnectedAt: now });
    while (this.#sessions.size > this.#limits.maxSessions) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done) break;
      this.#sessions.delete(oldest.value);
    }
  }

  override restoreSession(pid: PrivateSessionId, offset: string | undefined): Session | null {
    if (typeof pid !== "string" || typeof offset !== "string") return null;
    const now = Date.now();
    this.#sweep(now);
    const session = this.#sessions.get(pid);
    if (session === undefined) return null;
    // A session is restored once: a second connection with the same pid starts afresh.
    this.#sessions.delete(pid);
    const seq = this.#sequenceOf(offset);
    // The packets after `seq` must all still be stored (the one at `seq` itself may be gone).
    if (seq === undefined || seq < this.#firstSeq - 1 || seq >= this.#nextSeq) return null;
    const missedPackets: unknown[][] = [];
    const rooms = session.rooms;
    for (let i = this.#head + (seq + 1 - this.#firstSeq); i < this.#packets.length; i++) {
      const packet = this.#packets[i]!;
      if (!reaches(packet, rooms)) continue;
      if (missedPackets.length === this.#limits.maxMissedPacketsPerSession) return null;
      missedPackets.push(packet.data);
    }
    return {
      sid: session.sid,
      pid: session.pid,
      rooms: session.rooms,
      data: session.data,
      missedPackets,
    };
  }

  /** The sequence number of one of this adapter's offsets; undefined for anything else. */
  #sequenceOf(offset: string): number | undefined {
    if (!offset.startsWith(this.#prefix)) return undefined;
    const digits = offset.slice(this.#prefix.length);
    if (!/^[0-9a-z]{1,11}$/.test(digits)) return undefined;
    const seq = Number.parseInt(digits, 36);
    return Number.isSafeInteger(seq) ? seq : undefined;
  }

  #sweep(now: number): void {
    this.#sweepSessions(now);
    this.#evictPackets(now);
  }

  #sweepSessions(now: number): void {
    const threshold = now - this.#limits.maxDisconnectionDuration;
    for (const [pid, session] of this.#sessions) {
      if (session.disconnectedAt >= threshold) break;
      this.#sessions.delete(pid);
    }
  }

  /** Drops the oldest packets while they are expired or over the count or byte limits. */
  #evictPackets(now: number): void {
    const limits = this.#limits;
    const threshold = now - limits.maxDisconnectionDuration;
    const packets = this.#packets;
    while (this.#head < packets.length) {
      const oldest = packets[this.#head]!;
      const live = packets.length - this.#head;
      if (
        oldest.emittedAt >= threshold &&
        live <= limits.maxBufferedPackets &&
        this.#bytes <= limits.maxBufferedBytes
      ) {
        break;
      }
      this.#bytes -= oldest.size;
      this.#head++;
      this.#firstSeq++;
    }
    if (this.#head === packets.length) {
      this.#packets = [];
      this.#head = 0;
    } else if (this.#head > COMPACT_THRESHOLD && this.#head * 2 > packets.length) {
      this.#packets = packets.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** Whether a stored packet was meant for a socket in `rooms` (its own id among them). */
function reaches(packet: StoredPacket, rooms: readonly Room[]): boolean {
  const except = packet.except;
  if (except !== undefined && except.size > 0) {
    for (const room of rooms) if (except.has(room)) return false;
  }
  if (packet.rooms.size === 0) return true;
  for (const room of rooms) if (packet.rooms.has(room)) return true;
  return false;
}

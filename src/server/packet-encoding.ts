/**
 * Encoding Socket.IO packets for sending: once per packet, whatever the number of recipients.
 */
import { PreparedEngineMessage } from "../engine/prepared-message.js";
import { MESSAGE_PREFIX_LENGTH } from "../protocol/engine/packet.js";
import {
  type EncodedSocketPacket,
  encode,
  type OutgoingSocketPacket,
  SocketPacketType,
} from "../protocol/socketio/index.js";
import { safeStringUtf8Length } from "../protocol/socketio/json-safe-strings.js";
import { dataFault, idFault, namespaceFault } from "../protocol/socketio/validation.js";

/**
 * Encodes `packet` (text part, then binary attachments).
 *
 * @throws TypeError when the data cannot be encoded (circular, BigInt, a throwing toJSON, nesting
 * deeper than 1000 levels): a programming error of the emitter, reported where it emits, as
 * socket.io's JSON.stringify would.
 */
export function encodeOrThrow(packet: OutgoingSocketPacket): EncodedSocketPacket {
  const result = encode(packet);
  if (!result.ok) throw new TypeError(`cannot encode the Socket.IO packet: ${result.reason}`);
  return result.parts;
}

/** Encodes Socket.IO packets for adapters that write them to clients themselves. */
export interface PacketEncoder {
  /**
   * The packet's text part, then its binary attachments.
   * @throws TypeError when the data cannot be encoded.
   */
  encode(packet: OutgoingSocketPacket): EncodedSocketPacket;
}

/** The server's encoder (`io.encoder`): the built-in parser's format. */
export const PACKET_ENCODER: PacketEncoder = Object.freeze({ encode: encodeOrThrow });

/** Wraps each encoded part so that its wire forms are built once for all recipients. */
export function prepareParts(parts: EncodedSocketPacket): PreparedEngineMessage[] {
  const prepared = new Array<PreparedEngineMessage>(parts.length);
  for (let i = 0; i < parts.length; i++) prepared[i] = new PreparedEngineMessage(parts[i]!);
  return prepared;
}

/** Approximate memory held by an encoded packet (text length plus attachment bytes). */
export function encodedSize(parts: EncodedSocketPacket): number {
  let size = parts[0].length;
  for (let i = 1; i < parts.length; i++) size += (parts[i] as Uint8Array).byteLength;
  return size;
}

/**
 * Packets written as bytes by {@link encodeUtf8} that are shorter than this are cut from small
 * slabs ({@link SMALL_SLAB_SIZE}), and only for connections holding less than
 * {@link MAX_BUFFERED_FOR_SMALL_UTF8}; longer ones from large slabs ({@link SLAB_SIZE}).
 */
const SMALL_PACKET = 2 * 1024;
/**
 * {@link encodeUtf8} writes packets of at least {@link SMALL_PACKET} bytes for connections whose
 * transport holds less than this: a connection that does not read keeps its queued frames, and
 * so the slabs they are cut from (at most this much over {@link SMALL_PACKET} frames of a
 * {@link SLAB_SIZE} slab each, 2 MiB, where its limits allow 16 MiB), while the next frames go as
 * strings that hold only themselves.
 */
export const MAX_BUFFERED_FOR_UTF8 = 128 * 1024;
/**
 * The same bound for packets below {@link SMALL_PACKET}: each is at least 8 bytes and pins at
 * most one {@link SMALL_SLAB_SIZE} slab, so a connection that stopped reading holds at most
 * 2 KiB / 8 B x 4 KiB = 1 MiB of slabs through them. Small packets of a connection that reads
 * leave the queue in the same turn (they are copied into the outgoing buffer when it flushes).
 */
export const MAX_BUFFERED_FOR_SMALL_UTF8 = 2 * 1024;
/**
 * Packets of up to {@link MAX_SLAB_PIECE} bytes are cut from shared slabs of this size (one
 * ArrayBuffer per message costs more than the bytes it saves writing); larger ones get their own.
 */
const SLAB_SIZE = 32 * 1024;
const MAX_SLAB_PIECE = 8 * 1024;
/** Slabs of the packets below {@link SMALL_PACKET}: small, so that one piece pins little. */
const SMALL_SLAB_SIZE = 4 * 1024;
/** Bytes before the text, for the Engine.IO packet type (see `EngineSocket._sendUtf8`). */
const HEADROOM = MESSAGE_PREFIX_LENGTH;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const ZERO = 0x30;

/**
 * Pieces cut one after another from shared slabs of one size (one ArrayBuffer per packet costs
 * more than the bytes it saves writing); a new slab when the current one has no room left.
 */
class Slabs {
  readonly #slabSize: number;
  #slab: Buffer = Buffer.alloc(0);
  #used = 0;

  constructor(slabSize: number) {
    this.#slabSize = slabSize;
  }

  /** A piece of `size` bytes (at most the slab size), its contents not set. */
  piece(size: number): Buffer {
    if (this.#used + size > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(this.#slabSize);
      this.#used = 0;
    }
    const piece = this.#slab.subarray(this.#used, this.#used + size);
    this.#used += size;
    return piece;
  }
}

const smallSlabs = new Slabs(SMALL_SLAB_SIZE);
const slabs = new Slabs(SLAB_SIZE);

/** Per element of the array being written: the element, read once. */
const values: unknown[] = [];
/** Per element: its JSON text, or "" for a string written as is. */
const pieces: string[] = [];
/** Per element: the UTF-8 length of the string written as is, or of its JSON text. */
const lengths: number[] = [];

/**
 * The text of `packet` as UTF-8 bytes after one free byte, for the Engine.IO layer's packet
 * type: the same text as {@link encodeOrThrow}'s, written without building it as a string (no
 * concatenation, no count of its UTF-8 length, no conversion when it leaves). For EVENT and ACK
 * packets whose data is a flat array of strings, numbers, booleans and nulls holding a string
 * the parser found escape-free and counted (an echo or acknowledgement of what a client sent):
 * that string is copied as it is, with no JSON.stringify and no second count of its UTF-8 length.
 * `buffered`: what the connection holds unsent (bounds the slabs its queued packets keep alive).
 * Null for any other packet, for a connection holding too much, and for any packet the encoder
 * would refuse (which {@link encodeOrThrow} then reports).
 */
export function encodeUtf8(packet: OutgoingSocketPacket, buffered: number): Buffer | null {
  const { type, data } = packet;
  if (type !== SocketPacketType.Event && type !== SocketPacketType.Ack) return null;
  if (!Array.isArray(data) || buffered >= MAX_BUFFERED_FOR_UTF8) return null;
  if ((data as { toJSON?: unknown }).toJSON !== undefined) return null;
  const count = data.length;
  // First the shape and the vouched strings, with no work for packets that have none (they go
  // to the text encoder). Each element is read once: an accessor cannot change it in between.
  let vouched = false;
  for (let i = 0; i < count; i++) {
    const value: unknown = data[i];
    values[i] = value;
    if (typeof value === "string") {
      const length = safeStringUtf8Length(value);
      lengths[i] = length;
      if (length !== -1) vouched = true;
    } else if (typeof value === "number" || typeof value === "boolean" || value === null) {
      lengths[i] = -1;
    } else {
      forgetValues(i + 1);
      return null;
    }
  }
  const { nsp, id } = packet;
  if (!vouched || (namespaceFault(nsp) ?? idFault(type, id) ?? dataFault(type, data)) !== null) {
    forgetValues(count);
    return null;
  }
  let size = count > 0 ? count + 1 : 2; // brackets and commas
  for (let i = 0; i < count; i++) {
    const length = lengths[i]!;
    if (length !== -1) {
      pieces[i] = "";
      size += length + 2;
      continue;
    }
    const value = values[i];
    const piece = JSON.stringify(value);
    // Numbers, booleans and null are ASCII: as many bytes as characters.
    const pieceLength = typeof value === "string" ? Buffer.byteLength(piece) : piece.length;
    pieces[i] = piece;
    lengths[i] = pieceLength;
    size += pieceLength;
  }
  // What the encoder writes before the data (protocol/socketio/encoder.ts), without attachments.
  const namespace = nsp === "/" ? "" : `${nsp},`;
  const namespaceLength = namespace === "" ? 0 : Buffer.byteLength(namespace);
  const idLength = id === undefined ? 0 : digitCount(id);
  const total = HEADROOM + 1 + namespaceLength + idLength + size;
  if (total < SMALL_PACKET && buffered >= MAX_BUFFERED_FOR_SMALL_UTF8) {
    forgetValues(count);
    return null;
  }
  const bytes = allocate(total);
  let at = HEADROOM;
  bytes[at++] = type === SocketPacketType.Ack ? ZERO + 3 : ZERO + 2;
  if (namespaceLength > 0) at += bytes.write(namespace, at, "utf8");
  if (id !== undefined) {
    at += idLength;
    writeDigits(bytes, at, id);
  }
  bytes[at++] = OPEN_BRACKET;
  for (let i = 0; i < count; i++) {
    if (i > 0) bytes[at++] = COMMA;
    const piece = pieces[i]!;
    if (piece !== "") {
      at += writeText(bytes, at, piece, lengths[i]!);
      continue;
    }
    bytes[at++] = QUOTE;
    at += writeText(bytes, at, values[i] as string, lengths[i]!);
    bytes[at++] = QUOTE;
  }
  bytes[at] = CLOSE_BRACKET;
  forgetValues(count);
  return bytes;
}

/**
 * Drops the elements and texts of the first `count` entries, which could be long: for short
 * arrays without shrinking the tables (cheap stores, where setting `length` is a call into the
 * runtime).
 */
function forgetValues(count: number): void {
  if (count > KEPT_ENTRIES) {
    // A long array: the tables do not stay that long.
    values.length = 0;
    pieces.length = 0;
    lengths.length = 0;
    return;
  }
  for (let i = 0; i < count; i++) {
    values[i] = undefined;
    pieces[i] = "";
  }
}

/** The tables are emptied after arrays longer than this, cleared entry by entry otherwise. */
const KEPT_ENTRIES = 64;

/** Ids up to this are worked on as 32-bit integers (integer division, no Math.floor). */
const INT32_MAX = 0x7fffffff;

/** Digits of a non-negative safe integer (checked by `idFault`). */
function digitCount(id: number): number {
  let digits = 1;
  if (id <= INT32_MAX) {
    for (let rest = id; rest >= 10; rest = (rest / 10) | 0) digits++;
    return digits;
  }
  for (let rest = id; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** Writes the decimal digits of `id` (a non-negative safe integer) so that the last is before `end`. */
function writeDigits(bytes: Buffer, end: number, id: number): void {
  let k = end - 1;
  if (id <= INT32_MAX) {
    let rest = id;
    do {
      const next = (rest / 10) | 0;
      bytes[k--] = ZERO + rest - next * 10;
      rest = next;
    } while (rest > 0);
    return;
  }
  let rest = id;
  do {
    bytes[k--] = ZERO + (rest % 10);
    rest = Math.floor(rest / 10);
  } while (rest > 0);
}

/** Writes `text`, `length` bytes in UTF-8, at `at`; returns `length`. */
function writeText(bytes: Buffer, at: number, text: string, length: number): number {
  // Only ASCII is as long in UTF-8 as in UTF-16 code units: Latin-1 writes it byte for byte.
  if (length === text.length) {
    if (length <= SHORT_ASCII) {
      // Short text: a loop costs less than a call into the runtime.
      for (let k = 0; k < length; k++) bytes[at + k] = text.charCodeAt(k);
      return length;
    }
    return bytes.write(text, at, length, "latin1");
  }
  return bytes.write(text, at, length, "utf8");
}

/** ASCII text up to this long is copied by a loop (see {@link writeText}). */
const SHORT_ASCII = 64;

/**
 * A buffer of `size` bytes: a piece of the current small slab below SMALL_PACKET, of the current
 * slab up to MAX_SLAB_PIECE (at most a quarter of the slab), its own otherwise.
 */
function allocate(size: number): Buffer {
  if (size < SMALL_PACKET) return smallSlabs.piece(size);
  if (size > MAX_SLAB_PIECE) return Buffer.allocUnsafe(size);
  return slabs.piece(size);
}

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
import {
  MIN_REMEMBERED_LENGTH,
  safeStringUtf8Length,
} from "../protocol/socketio/json-safe-strings.js";
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
 * Packets written as bytes by {@link encodeUtf8} are at least this long: below, building the
 * text costs little, and what a slow reader's queue holds stays strings (see the slab below).
 */
const MIN_UTF8_PACKET = 2 * 1024;
/**
 * {@link encodeUtf8} is for connections whose transport holds less than this: a connection that
 * does not read keeps its queued frames, and so the slabs they are cut from (at most this much
 * over {@link MIN_UTF8_PACKET} frames of a {@link SLAB_SIZE} slab each, 2 MiB, where its limits
 * allow 16 MiB), while the next frames go as strings that hold only themselves.
 */
export const MAX_BUFFERED_FOR_UTF8 = 128 * 1024;
/**
 * Packets of up to {@link MAX_SLAB_PIECE} bytes are cut from shared slabs of this size (one
 * ArrayBuffer per message costs more than the bytes it saves writing); larger ones get their own.
 */
const SLAB_SIZE = 32 * 1024;
const MAX_SLAB_PIECE = 8 * 1024;
/** Bytes before the text, for the Engine.IO packet type (see `EngineSocket._sendUtf8`). */
const HEADROOM = MESSAGE_PREFIX_LENGTH;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;

let slab: Buffer = Buffer.alloc(0);
let slabUsed = 0;

/** Per element of the array being written: its JSON text, or "" for a string written as is. */
const pieces: string[] = [];
/** Per element written as is: its UTF-8 length. */
const lengths: number[] = [];

/**
 * The text of `packet` as UTF-8 bytes after one free byte, for the Engine.IO layer's packet
 * type: the same text as {@link encodeOrThrow}'s, written without building it as a string. For
 * EVENT and ACK packets of at least {@link MIN_UTF8_PACKET} bytes whose data is a flat array of
 * strings, numbers, booleans and nulls holding a string the parser found escape-free and counted
 * (an echo of what a client sent): that string is copied as it is, with no JSON.stringify, no
 * concatenation and no second count of its UTF-8 length. Null for any other packet, and for any
 * packet the encoder would refuse (which {@link encodeOrThrow} then reports).
 */
export function encodeUtf8(packet: OutgoingSocketPacket): Buffer | null {
  const { type, data } = packet;
  if (type !== SocketPacketType.Event && type !== SocketPacketType.Ack) return null;
  if (!Array.isArray(data) || !holdsLongString(data)) return null;
  if ((data as { toJSON?: unknown }).toJSON !== undefined) return null;
  const count = data.length;
  let size = count > 0 ? count + 1 : 2; // brackets and commas
  let vouched = false;
  for (let i = 0; i < count; i++) {
    const value: unknown = data[i];
    let piece: string;
    if (typeof value === "string") {
      const length = safeStringUtf8Length(value);
      if (length !== -1) {
        pieces[i] = "";
        lengths[i] = length;
        size += length + 2;
        vouched = true;
        continue;
      }
      piece = JSON.stringify(value);
    } else if (typeof value === "number" || typeof value === "boolean" || value === null) {
      piece = JSON.stringify(value);
    } else {
      pieces.length = 0;
      return null;
    }
    pieces[i] = piece;
    size += Buffer.byteLength(piece);
  }
  const { nsp, id } = packet;
  if (
    !vouched ||
    size < MIN_UTF8_PACKET ||
    (namespaceFault(nsp) ?? idFault(type, id) ?? dataFault(type, data)) !== null
  ) {
    pieces.length = 0;
    return null;
  }
  // What the encoder writes before the data (protocol/socketio/encoder.ts), without attachments.
  let prefix = type === SocketPacketType.Ack ? "3" : "2";
  if (nsp !== "/") prefix += `${nsp},`;
  if (id !== undefined) prefix += id;
  const bytes = allocate(HEADROOM + Buffer.byteLength(prefix) + size);
  let at = HEADROOM + bytes.write(prefix, HEADROOM, "utf8");
  bytes[at++] = OPEN_BRACKET;
  for (let i = 0; i < count; i++) {
    if (i > 0) bytes[at++] = COMMA;
    const piece = pieces[i]!;
    if (piece !== "") {
      at += bytes.write(piece, at, "utf8");
      continue;
    }
    const value = data[i] as string;
    bytes[at++] = QUOTE;
    // Only ASCII is as long in UTF-8 as in UTF-16 code units: Latin-1 writes it byte for byte.
    at += bytes.write(value, at, lengths[i] === value.length ? "latin1" : "utf8");
    bytes[at++] = QUOTE;
  }
  bytes[at] = CLOSE_BRACKET;
  pieces.length = 0;
  return bytes;
}

/** Whether `data` holds a string long enough to have been remembered (most packets do not). */
function holdsLongString(data: readonly unknown[]): boolean {
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (typeof value === "string" && value.length >= MIN_REMEMBERED_LENGTH) return true;
  }
  return false;
}

/**
 * A buffer of `size` bytes: a piece of the current slab for packets up to MAX_SLAB_PIECE (at
 * most a quarter of the slab), its own otherwise.
 */
function allocate(size: number): Buffer {
  if (size > MAX_SLAB_PIECE) return Buffer.allocUnsafe(size);
  if (slabUsed + size > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabUsed = 0;
  }
  const piece = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += size;
  return piece;
}

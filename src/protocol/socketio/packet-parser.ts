/**
 * Parses the text part of a Socket.IO packet:
 *
 *   <type>[<attachments>-][<nsp>,][<id>][<JSON data>]
 *
 * and checks it with the same rules the encoder applies. The namespace runs from a "/" right after
 * the type (and attachment count) to the first "," or the end; digits after it are the id; the
 * rest is JSON.
 */
import { MAX_DEPTH } from "./attachment-extraction.js";
import { MIN_REMEMBERED_LENGTH, rememberSafeStrings } from "./json-safe-strings.js";
import { SocketPacketType } from "./packet-types.js";
import { dataFault, idFault } from "./validation.js";

const DASH = 45;
const SLASH = 47;
/** 16 digits can exceed Number.MAX_SAFE_INTEGER; longer runs are refused before converting. */
const MAX_DIGITS = 16;

/** The fields of a packet text, checked; binary types keep their type and attachment count. */
export interface ParsedPacketText {
  type: SocketPacketType;
  nsp: string;
  id: number | undefined;
  data: unknown;
  /** Number of binary parts that follow (BinaryEvent/BinaryAck only; 0 otherwise). */
  attachments: number;
}

/** Result of {@link parsePacketText}. */
export type ParsedPacketTextResult =
  | { ok: true; parsed: ParsedPacketText }
  | { ok: false; reason: string };

/**
 * Parses and validates a packet text. `maxAttachments` bounds the announced attachment count, so
 * a peer cannot make the decoder wait for (and buffer) an unbounded number of binary parts.
 */
export function parsePacketText(
  text: string,
  maxAttachments: number,
  maxDepth: number = MAX_DEPTH,
): ParsedPacketTextResult {
  const length = text.length;
  if (length === 0) return { ok: false, reason: "empty packet" };
  const type = text.charCodeAt(0) - 48;
  if (!(type >= 0 && type <= 6)) return { ok: false, reason: "unknown packet type" };
  let i = 1;

  let attachments = 0;
  if (type === SocketPacketType.BinaryEvent || type === SocketPacketType.BinaryAck) {
    const start = i;
    while (i < length && isDigit(text.charCodeAt(i))) i++;
    if (i === start || text.charCodeAt(i) !== DASH) {
      return { ok: false, reason: "invalid attachment count" };
    }
    if (i - start > MAX_DIGITS) return { ok: false, reason: "too many attachments" };
    attachments = Number(text.slice(start, i));
    if (attachments < 1) return { ok: false, reason: "invalid attachment count" };
    if (attachments > maxAttachments) return { ok: false, reason: "too many attachments" };
    i++; // the "-"
  }

  let nsp = "/";
  if (text.charCodeAt(i) === SLASH) {
    const comma = text.indexOf(",", i);
    const end = comma === -1 ? length : comma;
    nsp = text.slice(i, end);
    i = comma === -1 ? length : comma + 1;
  }

  let id: number | undefined;
  if (i < length && isDigit(text.charCodeAt(i))) {
    const start = i;
    while (i < length && isDigit(text.charCodeAt(i))) {
      if (++i - start > MAX_DIGITS) return { ok: false, reason: "id too large" };
    }
    id = Number(text.slice(start, i));
  }

  let data: unknown;
  if (i < length) {
    // Data the encoder could not send back (an ack echoing it) is refused at the door, before
    // JSON.parse builds anything; the exact scan runs only when the brackets could be too many.
    if (mayNestDeeper(text, i, maxDepth) && jsonNestingExceeds(text, i, maxDepth)) {
      return { ok: false, reason: `data nested deeper than ${maxDepth} levels` };
    }
    try {
      data = JSON.parse(text.slice(i));
    } catch {
      return { ok: false, reason: "data is not valid JSON" };
    }
    if (
      Array.isArray(data) &&
      length - i > MIN_REMEMBERED_LENGTH &&
      text.indexOf("\\", i) === -1 &&
      isWellFormed(text)
    ) {
      rememberSafeStrings(data);
    }
  }

  const packetType = type as SocketPacketType;
  const fault = idFault(packetType, id) ?? dataFault(packetType, data);
  if (fault !== null) return { ok: false, reason: fault };
  return { ok: true, parsed: { type: packetType, nsp, id, data, attachments } };
}

/**
 * False when the JSON text from `start` cannot nest deeper than `limit`: nesting `limit + 1`
 * levels takes that many "[" or "{" (and as many closing ones). Counting them with indexOf
 * (native, no per-character JavaScript) costs a fraction of the exact scan for normal data.
 */
function mayNestDeeper(text: string, start: number, limit: number): boolean {
  if (text.length - start < 2 * (limit + 1)) return false;
  let openers = 0;
  for (let at = text.indexOf("[", start); at !== -1; at = text.indexOf("[", at + 1)) {
    if (++openers > limit) return true;
  }
  for (let at = text.indexOf("{", start); at !== -1; at = text.indexOf("{", at + 1)) {
    if (++openers > limit) return true;
  }
  return false;
}

/** String.prototype.isWellFormed (ES2024, in every Node.js this package supports). */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Whether the JSON text from `start` nests arrays/objects deeper than `limit`: one pass over the
 * characters, skipping string contents (and their escapes), before JSON.parse builds anything.
 */
function jsonNestingExceeds(text: string, start: number, limit: number): boolean {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 34 /* " */) {
      for (i++; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 92 /* \ */) i++;
        else if (c === 34) break;
      }
    } else if (code === 91 /* [ */ || code === 123 /* { */) {
      if (++depth > limit) return true;
    } else if (code === 93 /* ] */ || code === 125 /* } */) {
      depth--;
    }
  }
  return false;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * An independent model of what a validating WebSocket receiver must report for a byte stream
 * (RFC 6455 sections 5 and 8.1, RFC 7692 RSV1 rules, the checks listed in
 * docs/design/websocket.md), written for the fuzz suites: whole-buffer and non-incremental, so it
 * shares no code and no structure with `src/protocol/websocket/frame-parser.ts`. It also holds the
 * generators of frame streams the suites mutate. Like the other test helpers it never imports
 * `src/protocol`.
 */
import { isUtf8 } from "node:buffer";
import fc from "fast-check";
import { encodeFrame, type FrameSpec } from "../helpers/frames.js";

/** An event as the parser reports it; errors keep only their close code. */
export type ModelEvent =
  | ["message", boolean, number[]]
  | ["compressedFrame", boolean, number[], boolean]
  | ["ping", number[]]
  | ["pong", number[]]
  | ["close", number | undefined, string]
  | ["error", number];

/** Where the stream left the receiver. */
export type ModelEnd =
  /** Stopped by an error or a close frame (later bytes ignored). */
  | "stopped"
  /** Between frames, no fragmented message open. */
  | "idle"
  /** Between frames, a fragmented data message open. */
  | "in-message"
  /** Inside a frame header or payload. */
  | "in-frame";

export interface ModelOptions {
  role: "server" | "client";
  maxPayload: number;
  permessageDeflate: boolean;
  /** Most frames per data message (0 or absent: no limit); the frame past it fails with 1008. */
  maxFragments?: number;
}

export interface ModelResult {
  events: ModelEvent[];
  end: ModelEnd;
  /** A compressed (RSV1) frame was reported: what follows depends on inflating it. */
  sawCompressed: boolean;
}

/** Close codes a receiver may see on the wire (RFC 6455 7.4, IANA registry). */
export function isWireCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

/**
 * Whether `bytes` can start well-formed UTF-8: valid as is, or valid once a sequence cut at the
 * end is completed. Second-byte candidates cover every narrowed range (after E0, ED, F0, F4).
 */
export function isUtf8Prefix(bytes: Uint8Array): boolean {
  if (isUtf8(bytes)) return true;
  for (let n = 1; n <= 3; n++) {
    for (const first of [0x80, 0x90, 0xa0]) {
      const tail = [first, 0x80, 0x80].slice(0, n);
      const joined = new Uint8Array(bytes.length + n);
      joined.set(bytes);
      joined.set(tail, bytes.length);
      if (isUtf8(joined)) return true;
    }
  }
  return false;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The events a receiver must report for `stream` (the whole stream at once). */
export function modelReceive(stream: Uint8Array, options: ModelOptions): ModelResult {
  const events: ModelEvent[] = [];
  let sawCompressed = false;
  const result = (end: ModelEnd): ModelResult => ({ events, end, sawCompressed });
  const fail = (code: number): ModelResult => {
    events.push(["error", code]);
    return result("stopped");
  };

  let pos = 0;
  // The open data message: 0 when none, else its opcode.
  let messageOpcode = 0;
  let compressed = false;
  let validate = false;
  let messageLength = 0n;
  let messageFrames = 0;
  let messageBytes: number[] = [];
  const maxFragments = options.maxFragments ?? 0;

  for (;;) {
    if (pos === stream.length) return result(messageOpcode === 0 ? "idle" : "in-message");
    if (stream.length - pos < 2) return result("in-frame");
    const b0 = stream[pos];
    const b1 = stream[pos + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    // Checks on the first two bytes: reported as soon as they are there.
    if ((b0 & 0x30) !== 0) return fail(1002);
    const isControl = opcode === 8 || opcode === 9 || opcode === 10;
    const isData = opcode === 1 || opcode === 2;
    if (!isControl && !isData && opcode !== 0) return fail(1002);
    if (isControl && (!fin || rsv1)) return fail(1002);
    if (opcode === 0 && (messageOpcode === 0 || rsv1)) return fail(1002);
    if (isData && messageOpcode !== 0) return fail(1002);
    if (isData && rsv1 && !options.permessageDeflate) return fail(1002);
    if (masked !== (options.role === "server")) return fail(1002);

    // The rest of the header (length and key) is judged once it is all there.
    const length7 = b1 & 0x7f;
    const lengthBytes = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    const headerSize = 2 + lengthBytes + (masked ? 4 : 0);
    if (stream.length - pos < headerSize) return result("in-frame");
    let length = BigInt(length7);
    if (lengthBytes > 0) {
      length = 0n;
      for (let i = 0; i < lengthBytes; i++) length = (length << 8n) | BigInt(stream[pos + 2 + i]);
    }
    if (length >= 1n << 63n) return fail(1002);
    if (length > MAX_SAFE) return fail(1009);
    if (isControl && length > 125n) return fail(1002);
    if (isData) {
      messageOpcode = opcode;
      compressed = rsv1;
      validate = opcode === 1 && !rsv1;
      messageLength = 0n;
      messageFrames = 1;
      messageBytes = [];
    } else if (opcode === 0 && ++messageFrames > maxFragments && maxFragments > 0) {
      return fail(1008);
    }
    if (!isControl) {
      const total = messageLength + length;
      if ((options.maxPayload > 0 && total > BigInt(options.maxPayload)) || total > MAX_SAFE) {
        return fail(1009);
      }
      messageLength = total;
    }

    const key = masked ? stream.subarray(pos + headerSize - 4, pos + headerSize) : null;
    const start = pos + headerSize;
    const available = Math.min(Number(length), stream.length - start);
    const payload = Array.from(stream.subarray(start, start + available), (b, i) =>
      key ? b ^ key[i & 3] : b,
    );
    const complete = available === Number(length);

    if (isControl) {
      if (!complete) return result("in-frame");
      if (opcode === 9) events.push(["ping", payload]);
      else if (opcode === 10) events.push(["pong", payload]);
      else {
        if (payload.length === 0) {
          events.push(["close", undefined, ""]);
          return result("stopped");
        }
        if (payload.length === 1) return fail(1002);
        const code = (payload[0] << 8) | payload[1];
        if (!isWireCloseCode(code)) return fail(1002);
        const reason = Uint8Array.from(payload.slice(2));
        if (!isUtf8(reason)) return fail(1007);
        events.push(["close", code, Buffer.from(reason).toString("utf8")]);
        return result("stopped");
      }
    } else {
      // Uncompressed text is judged on every byte that arrived, complete or not.
      if (validate) {
        messageBytes.push(...payload);
        if (!isUtf8Prefix(Uint8Array.from(messageBytes))) return fail(1007);
      } else if (!compressed) {
        messageBytes.push(...payload);
      }
      if (!complete) return result("in-frame");
      const isBinary = messageOpcode === 2;
      if (compressed) {
        sawCompressed = true;
        events.push(["compressedFrame", isBinary, payload, fin]);
        if (fin) messageOpcode = 0;
      } else if (fin) {
        if (validate && !isUtf8(Uint8Array.from(messageBytes))) return fail(1007);
        events.push(["message", isBinary, messageBytes]);
        messageOpcode = 0;
      }
    }
    pos = start + Number(length);
  }
}

// ---- generators ------------------------------------------------------------------------------

const enc = new TextEncoder();

/** Payload bytes: valid text (multi-byte included), random bytes, or UTF-8 edge sequences. */
export const payloadArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }).map((s) => enc.encode(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.constantFrom(
          [0xc0, 0x80],
          [0xc2, 0x80],
          [0xe0, 0x9f, 0x80],
          [0xe0, 0xa0, 0x80],
          [0xed, 0xa0, 0x80],
          [0xed, 0x9f, 0xbf],
          [0xf0, 0x8f, 0x80, 0x80],
          [0xf0, 0x90, 0x80, 0x80],
          [0xf4, 0x8f, 0xbf, 0xbf],
          [0xf4, 0x90, 0x80, 0x80],
          [0xf5],
          [0xff],
          [0x80],
          [0x41],
        ),
        { maxLength: 6 },
      )
      .map((parts) => Uint8Array.from(parts.flat())),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 100, max: 300 }).map((n) => new Uint8Array(n).fill(0x61)),
  },
);

/** Declared payload lengths that lie, around every boundary of the three length forms. */
export const lyingLengthArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(
    0n,
    1n,
    125n,
    126n,
    127n,
    65535n,
    65536n,
    (1n << 31n) - 1n,
    1n << 31n,
    1n << 32n,
    1n << 40n,
    (1n << 53n) - 1n,
    1n << 53n,
    (1n << 63n) - 1n,
    1n << 63n,
    (1n << 64n) - 1n,
  ),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);

/** A close frame payload: valid, or bent (1 byte, invalid codes, invalid UTF-8 reasons). */
export const closePayloadArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4999),
      fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535),
      fc.integer({ min: 0, max: 65535 }),
    ),
    fc.oneof(
      fc.constant(new Uint8Array(0)),
      fc.string({ unit: "binary", maxLength: 20 }).map((s) => enc.encode(s)),
      fc.uint8Array({ maxLength: 10 }),
    ),
    fc.nat({ max: 9 }),
  )
  .map(([code, reason, shape]) => {
    if (shape === 0) return new Uint8Array(0);
    if (shape === 1) return Uint8Array.of(code >> 8);
    const out = new Uint8Array(2 + reason.length);
    out[0] = code >> 8;
    out[1] = code & 0xff;
    out.set(reason, 2);
    return out.subarray(0, Math.min(out.length, 125));
  });

/** How one frame of a well-formed stream gets bent. */
type Bend =
  | { kind: "fin" }
  | { kind: "rsv"; rsv: number }
  | { kind: "opcode"; opcode: number }
  | { kind: "mask" }
  | { kind: "length"; declared: bigint }
  | { kind: "form"; form: "16" | "64" }
  | { kind: "oversize"; payload: Uint8Array };

const bendArb: fc.Arbitrary<Bend> = fc.oneof(
  fc.record({ kind: fc.constant("fin" as const) }),
  fc.record({ kind: fc.constant("rsv" as const), rsv: fc.integer({ min: 1, max: 7 }) }),
  fc.record({ kind: fc.constant("opcode" as const), opcode: fc.nat({ max: 15 }) }),
  fc.record({ kind: fc.constant("mask" as const) }),
  fc.record({ kind: fc.constant("length" as const), declared: lyingLengthArb }),
  // Non-minimal length forms are legal to receive (RFC 6455 5.2 binds senders only).
  fc.record({ kind: fc.constant("form" as const), form: fc.constantFrom<"16" | "64">("16", "64") }),
  fc.record({
    kind: fc.constant("oversize" as const),
    payload: fc.uint8Array({ minLength: 126, maxLength: 300 }),
  }),
);

function applyBend(spec: FrameSpec, bend: Bend): FrameSpec {
  switch (bend.kind) {
    case "fin":
      return { ...spec, fin: !(spec.fin ?? true) };
    case "rsv":
      return { ...spec, rsv: bend.rsv };
    case "opcode":
      return { ...spec, opcode: bend.opcode };
    case "mask":
      return { ...spec, mask: spec.mask === false ? Uint8Array.of(1, 2, 3, 4) : false };
    case "length":
      return {
        ...spec,
        declaredLength: bend.declared,
        lengthForm: bend.declared < 126n ? "7" : bend.declared < 65536n ? "16" : "64",
      };
    case "form": {
      const length = spec.declaredLength ?? BigInt(spec.payload?.length ?? 0);
      return bend.form === "16" && length >= 65536n ? spec : { ...spec, lengthForm: bend.form };
    }
    case "oversize":
      return spec.lengthForm === "7" ? spec : { ...spec, payload: bend.payload };
  }
}

/**
 * A frame stream that is well-formed for `role` (data messages, fragmented or not, compressed
 * or not, with pings and pongs between fragments, maybe a close at the end), then with up to
 * `maxBends` of its frames bent: FIN flipped, reserved bits set, another opcode, the wrong
 * masking, a lying length (up to 2^64 - 1), a non-minimal length form, an oversized payload
 * (control frames over 125 bytes). `compressed: false` leaves RSV1 to the bends; `validText`
 * fills messages with valid UTF-8 only (fragments of it may still cut a character).
 */
export function frameStreamArb(
  role: "server" | "client",
  options: { maxBends?: number; compressed?: boolean; validText?: boolean } = {},
): fc.Arbitrary<FrameSpec[]> {
  const { maxBends = 2, compressed = true, validText = false } = options;
  const textPayload = fc.string({ unit: "binary", maxLength: 60 }).map((t) => enc.encode(t));
  const key = fc.uint8Array({ minLength: 4, maxLength: 4 });
  const control = fc.record({
    opcode: fc.constantFrom(9, 10),
    payload: fc.uint8Array({ maxLength: 125 }),
  });
  const message = fc.record({
    binary: fc.boolean(),
    compressed: compressed
      ? fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false)))
      : fc.constant(false),
    fragments: fc.array(validText ? textPayload : payloadArb, { minLength: 1, maxLength: 3 }),
    controls: fc.array(fc.option(control, { freq: 3 }), { minLength: 3, maxLength: 3 }),
  });
  return fc
    .record({
      messages: fc.array(message, { minLength: 1, maxLength: 4 }),
      close: fc.option(closePayloadArb, { freq: 3 }),
      keys: fc.array(key, { minLength: 1, maxLength: 4 }),
      bends: fc.array(fc.tuple(fc.nat(), bendArb), { maxLength: maxBends }),
    })
    .map(({ messages, close, keys, bends }) => {
      let k = 0;
      const mask = () => (role === "server" ? keys[k++ % keys.length] : false);
      const specs: FrameSpec[] = [];
      for (const m of messages) {
        m.fragments.forEach((payload, i) => {
          specs.push({
            opcode: i === 0 ? (m.binary ? 2 : 1) : 0,
            payload,
            fin: i === m.fragments.length - 1,
            rsv: i === 0 && m.compressed ? 4 : 0,
            mask: mask(),
          });
          const c = m.controls[i];
          if (c && i < m.fragments.length - 1) specs.push({ ...c, fin: true, mask: mask() });
        });
      }
      if (close !== null) specs.push({ opcode: 8, payload: close, mask: mask() });
      for (const [at, bend] of bends) {
        const i = at % specs.length;
        specs[i] = applyBend(specs[i], bend);
      }
      return specs;
    });
}

/** A stream of frames, as bytes (masked with the specs' keys). */
export function encodeStream(specs: readonly FrameSpec[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(specs.map((spec) => encodeFrame(spec))));
}

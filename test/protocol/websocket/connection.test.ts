// The connection's state machine without sockets: explicit input sequences for each rule of RFC
// 6455 sections 5.5 and 7 (with the close frames' bytes), then generated interleavings of every
// input, checked against the properties the RFC and the WebSocket API promise.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isValidWireCloseCode } from "../../../src/protocol/websocket/close-codes.js";
import {
  fitCloseReason,
  MAX_CLOSE_REASON,
  ReadyState,
  WebSocketConnection,
} from "../../../src/protocol/websocket/connection.js";
import type { Role } from "../../../src/protocol/websocket/constants.js";

/** One output of the state machine, as recorded. */
type Output =
  | { kind: "writeClose"; payload: number[] }
  | { kind: "writePong"; payload: number[] }
  | { kind: "endTransport" }
  | { kind: "destroyTransport" }
  | { kind: "armCloseTimer"; ms: number }
  | { kind: "clearCloseTimer" }
  | { kind: "stopInput" }
  | { kind: "finishInput" }
  | { kind: "abandonHandshake" }
  | { kind: "closed"; code: number; reason: string; wasClean: boolean; error: Error | null };

/** Records every output in order, with the state it was called in. */
class RecordingConnection extends WebSocketConnection {
  readonly outputs: Output[] = [];

  constructor(role: Role) {
    super(role);
  }

  /** The recorded outputs as short strings (for explicit sequences). */
  get log(): string[] {
    return this.outputs.map((output) => {
      switch (output.kind) {
        case "writeClose":
        case "writePong":
          return `${output.kind} ${Buffer.from(output.payload).toString("hex")}`;
        case "armCloseTimer":
          return `armCloseTimer ${output.ms}`;
        case "closed":
          return `closed ${output.code} ${JSON.stringify(output.reason)} ${output.wasClean ? "clean" : "unclean"}${output.error === null ? "" : ` error: ${output.error.message}`}`;
        default:
          return output.kind;
      }
    });
  }

  take(): string[] {
    const log = this.log;
    this.outputs.length = 0;
    return log;
  }

  protected override writeClose(payload: Uint8Array): void {
    this.outputs.push({ kind: "writeClose", payload: [...payload] });
  }
  protected override writePong(payload: Uint8Array): void {
    this.outputs.push({ kind: "writePong", payload: [...payload] });
  }
  protected override endTransport(): void {
    this.outputs.push({ kind: "endTransport" });
  }
  protected override destroyTransport(): void {
    this.outputs.push({ kind: "destroyTransport" });
  }
  protected override armCloseTimer(ms: number): void {
    this.outputs.push({ kind: "armCloseTimer", ms });
  }
  protected override clearCloseTimer(): void {
    this.outputs.push({ kind: "clearCloseTimer" });
  }
  protected override stopInput(): void {
    this.outputs.push({ kind: "stopInput" });
  }
  protected override finishInput(): void {
    this.outputs.push({ kind: "finishInput" });
  }
  protected override abandonHandshake(): void {
    this.outputs.push({ kind: "abandonHandshake" });
  }
  protected override closed(
    code: number,
    reason: string,
    wasClean: boolean,
    error: Error | null,
  ): void {
    this.outputs.push({ kind: "closed", code, reason, wasClean, error });
  }
}

function openConnection(role: Role): RecordingConnection {
  const connection = new RecordingConnection(role);
  connection.opened();
  return connection;
}

/** The transport closes and what was received is delivered: the outputs that follow. */
function closeTransport(connection: RecordingConnection): string[] {
  connection.transportClosed();
  connection.drained();
  return connection.take();
}

/** A close frame's payload as hex: the code in network order, then the UTF-8 reason. */
function closeHex(code: number, reason = ""): string {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload.toString("hex");
}

describe("WebSocketConnection: the closing handshake", () => {
  it("server: answers the peer's close with the same code and reason, closes TCP first", () => {
    const connection = openConnection("server");
    connection.closeFrameReceived(1000, "bye");
    assert.equal(connection.readyState, ReadyState.CLOSING);
    assert.deepEqual(connection.take(), [
      "finishInput",
      `writeClose ${closeHex(1000, "bye")}`,
      "endTransport",
      "armCloseTimer 30000",
    ]);
    connection.transportClosed();
    assert.deepEqual(connection.take(), ["clearCloseTimer"]);
    assert.equal(connection.readyState, ReadyState.CLOSING);
    connection.drained();
    assert.equal(connection.readyState, ReadyState.CLOSED);
    assert.deepEqual(connection.take(), ["stopInput", 'closed 1000 "bye" clean']);
  });

  it("client: answers the peer's close and waits for the server to close TCP", () => {
    const connection = openConnection("client");
    connection.closeFrameReceived(4000, "");
    assert.deepEqual(connection.take(), [
      "finishInput",
      `writeClose ${closeHex(4000)}`,
      "armCloseTimer 30000",
    ]);
    connection.transportEnded();
    assert.deepEqual(connection.take(), ["endTransport"]);
    assert.deepEqual(closeTransport(connection), [
      "clearCloseTimer",
      "stopInput",
      'closed 4000 "" clean',
    ]);
  });

  it("an empty close frame is answered with an empty one and reported as 1005", () => {
    const connection = openConnection("server");
    connection.closeFrameReceived(undefined, "");
    assert.deepEqual(connection.take(), [
      "finishInput",
      "writeClose ",
      "endTransport",
      "armCloseTimer 30000",
    ]);
    connection.transportClosed();
    connection.drained();
    assert.deepEqual(connection.take().at(-1), 'closed 1005 "" clean');
  });

  it("our close first: one close frame, the peer's answer is not answered again", () => {
    for (const role of ["server", "client"] as const) {
      const connection = openConnection(role);
      connection.configure({ closeTimeout: 250 });
      connection.close(3001, "done");
      assert.equal(connection.readyState, ReadyState.CLOSING);
      assert.deepEqual(connection.take(), [
        `writeClose ${closeHex(3001, "done")}`,
        "armCloseTimer 250",
      ]);
      connection.closeFrameReceived(3001, "done");
      // The timer runs from our close frame: it is not armed again.
      assert.deepEqual(
        connection.take(),
        role === "server" ? ["finishInput", "endTransport"] : ["finishInput"],
      );
      assert.deepEqual(closeTransport(connection), [
        "clearCloseTimer",
        "stopInput",
        'closed 3001 "done" clean',
      ]);
    }
  });

  it("a reason without a code is not sent; a second close does nothing", () => {
    const connection = openConnection("client");
    connection.close(undefined, "ignored");
    connection.close(1000, "again");
    assert.deepEqual(connection.take(), ["writeClose ", "armCloseTimer 30000"]);
  });

  it("the close timer destroys the transport when the peer does not answer", () => {
    const connection = openConnection("client");
    connection.close(1000, undefined);
    connection.take();
    connection.closeTimerFired();
    assert.deepEqual(connection.take(), ["destroyTransport"]);
    connection.closeTimerFired();
    assert.deepEqual(connection.take(), []);
    assert.deepEqual(closeTransport(connection), ["stopInput", 'closed 1006 "" unclean']);
  });

  it("the peer ends TCP without a close frame: abnormal closure (1006)", () => {
    const connection = openConnection("server");
    connection.transportEnded();
    assert.equal(connection.readyState, ReadyState.CLOSING);
    assert.deepEqual(connection.take(), ["endTransport"]);
    connection.close(1000, "too late");
    assert.deepEqual(connection.take(), []);
    assert.deepEqual(closeTransport(connection), ["stopInput", 'closed 1006 "" unclean']);
  });

  it("a close frame delivered after the transport closed completes the handshake unwritten", () => {
    const connection = openConnection("client");
    connection.transportClosed();
    assert.equal(connection.readyState, ReadyState.CLOSING);
    connection.closeFrameReceived(1001, "going");
    connection.drained();
    assert.deepEqual(connection.take(), ["finishInput", "stopInput", 'closed 1001 "going" clean']);
  });

  it("drained before the transport closed, and every input after CLOSED, do nothing", () => {
    const connection = openConnection("server");
    connection.drained();
    assert.equal(connection.readyState, ReadyState.OPEN);
    connection.transportClosed();
    connection.drained();
    connection.take();
    connection.closeFrameReceived(1000, "");
    connection.fail(new Error("late"), 1002);
    connection.close(1000, "");
    connection.terminate();
    connection.pingReceived(new Uint8Array([1]), 0);
    connection.transportEnded();
    connection.transportClosed();
    connection.drained();
    connection.handshakeFailed(new Error("late"));
    assert.deepEqual(connection.take(), []);
    assert.equal(connection.readyState, ReadyState.CLOSED);
  });
});

describe("WebSocketConnection: terminate and the opening handshake", () => {
  it("terminate destroys the transport at once: 1006, not clean", () => {
    const connection = openConnection("server");
    connection.terminate();
    assert.equal(connection.readyState, ReadyState.CLOSING);
    assert.deepEqual(connection.take(), ["stopInput", "destroyTransport"]);
    connection.terminate();
    assert.deepEqual(connection.take(), ["stopInput"]);
    assert.deepEqual(closeTransport(connection), ["stopInput", 'closed 1006 "" unclean']);
  });

  it("close or terminate while CONNECTING abandons the handshake", () => {
    for (const input of ["close", "terminate"] as const) {
      const connection = new RecordingConnection("client");
      assert.equal(connection.readyState, ReadyState.CONNECTING);
      if (input === "close") connection.close(1000, "");
      else connection.terminate();
      assert.equal(connection.readyState, ReadyState.CLOSING);
      assert.deepEqual(connection.take(), ["abandonHandshake"]);
      connection.close(1000, "");
      connection.opened();
      assert.equal(connection.readyState, ReadyState.CLOSING);
      connection.handshakeFailed(new Error("closed before the connection was established"));
      assert.equal(connection.readyState, ReadyState.CLOSED);
      assert.deepEqual(connection.take(), [
        'closed 1006 "" unclean error: closed before the connection was established',
      ]);
    }
  });

  it("a refused handshake reports 1006 with or without an error", () => {
    const connection = new RecordingConnection("client");
    connection.handshakeFailed(null);
    assert.deepEqual(connection.take(), ['closed 1006 "" unclean']);
  });
});

describe("WebSocketConnection: pings", () => {
  it("answers a ping while OPEN, with its payload", () => {
    const connection = openConnection("client");
    connection.pingReceived(new Uint8Array([0x68, 0x69]), 0);
    assert.deepEqual(connection.take(), ["writePong 6869"]);
  });

  it("does not answer with autoPong off, or once closing", () => {
    const quiet = openConnection("server");
    quiet.configure({ autoPong: false });
    quiet.pingReceived(new Uint8Array(0), 0);
    assert.deepEqual(quiet.take(), []);
    const closing = openConnection("server");
    closing.close(1000, "");
    closing.take();
    closing.pingReceived(new Uint8Array(0), 0);
    assert.deepEqual(closing.take(), []);
  });

  it("destroys the transport when maxPendingAutoPongs pongs are unwritten (0: no limit)", () => {
    const connection = openConnection("server");
    connection.configure({ maxPendingAutoPongs: 2 });
    connection.pingReceived(new Uint8Array(0), 1);
    assert.deepEqual(connection.take(), ["writePong "]);
    connection.pingReceived(new Uint8Array(0), 2);
    assert.deepEqual(connection.take(), ["stopInput", "destroyTransport"]);
    assert.equal(connection.readyState, ReadyState.CLOSING);
    const unlimited = openConnection("server");
    unlimited.configure({ maxPendingAutoPongs: 0 });
    unlimited.pingReceived(new Uint8Array(0), 1_000_000);
    assert.deepEqual(unlimited.take(), ["writePong "]);
  });
});

describe("WebSocketConnection: failing the connection", () => {
  it("close frame with the code and the error's message, then TCP ends, whichever role", () => {
    for (const role of ["server", "client"] as const) {
      const connection = openConnection(role);
      connection.fail(new Error("invalid opcode"), 1002);
      assert.deepEqual(connection.take(), [
        "stopInput",
        `writeClose ${closeHex(1002, "invalid opcode")}`,
        "endTransport",
        "armCloseTimer 30000",
      ]);
      connection.fail(new Error("second"), 1007);
      assert.deepEqual(connection.take(), ["stopInput"]);
      assert.deepEqual(closeTransport(connection), [
        "clearCloseTimer",
        "stopInput",
        'closed 1006 "" unclean error: invalid opcode',
      ]);
    }
  });

  it("after our close frame only TCP is ended; the peer's close does not make it clean", () => {
    const connection = openConnection("client");
    connection.close(1000, "");
    connection.take();
    connection.fail(new Error("too big"), 1009, "message too big");
    assert.deepEqual(connection.take(), ["stopInput", "endTransport"]);
    connection.closeFrameReceived(1000, "");
    assert.deepEqual(closeTransport(connection).at(-1), 'closed 1000 "" unclean error: too big');
  });

  it("never sends 1005, 1006 or 1015: such a code goes as a close frame without a code", () => {
    for (const code of [1005, 1006, 1015, 999, 5000]) {
      const connection = openConnection("server");
      connection.fail(new Error("x"), code);
      assert.deepEqual(connection.take()[1], "writeClose ");
    }
  });

  it("cuts the reason to 123 bytes at a character boundary", () => {
    const connection = openConnection("server");
    const long = "é".repeat(100);
    connection.fail(new Error(long), 1011);
    const frame = connection.outputs.find((output) => output.kind === "writeClose");
    assert.ok(frame !== undefined && frame.kind === "writeClose");
    assert.equal(frame.payload.length, 2 + 122);
    assert.equal(Buffer.from(frame.payload.slice(2)).toString(), "é".repeat(61));
  });
});

/** The cut made before the state machine moved out of websocket.ts (Buffer-based). */
function referenceFit(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON) return reason;
  let cut = reason.slice(0, MAX_CLOSE_REASON);
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON) cut = cut.slice(0, -1);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Strings of ASCII, 2-, 3- and 4-byte characters and lone surrogates. */
const anyText = fc
  .array(
    fc.oneof(
      fc.constantFrom("a", "é", "€", "😀", "\ud800", "\udc00"),
      fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
    ),
    { maxLength: 140 },
  )
  .map((parts) => parts.join(""));

describe("fitCloseReason", () => {
  it("vectors", () => {
    assert.equal(fitCloseReason(""), "");
    assert.equal(fitCloseReason("a".repeat(123)), "a".repeat(123));
    assert.equal(fitCloseReason("a".repeat(124)), "a".repeat(123));
    assert.equal(fitCloseReason(`${"a".repeat(121)}😀`), "a".repeat(121));
    assert.equal(fitCloseReason(`${"a".repeat(119)}😀b`), `${"a".repeat(119)}😀`);
  });

  it("gives what the Buffer-based cut gave, within 123 UTF-8 bytes", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const fitted = fitCloseReason(text);
        assert.equal(fitted, referenceFit(text));
        assert.ok(Buffer.byteLength(fitted) <= MAX_CLOSE_REASON, "longer than 123 bytes");
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- generated sequences ------------------------------------------------------------------------

/** Close codes a peer or an application might use, some of them never valid on the wire. */
const anyCode = fc.constantFrom(undefined, 1000, 1001, 1002, 1005, 1006, 1011, 1015, 3000, 4999);
/** Codes the frame parser lets through in a close frame (it refuses the others with 1002). */
const peerCode = fc.constantFrom(undefined, 1000, 1001, 1002, 1011, 3000, 4999);

type Input =
  | { kind: "send" }
  | { kind: "close"; code: number | undefined; reason: string }
  | { kind: "terminate" }
  | { kind: "closeFrame"; code: number | undefined; reason: string }
  | { kind: "ping"; payload: number[]; unwritten: number }
  | { kind: "fail"; code: number; reason: string }
  | { kind: "transportEnded" }
  | { kind: "transportLost" }
  | { kind: "timerFired" }
  | { kind: "transportClosesAsAsked" }
  | { kind: "drained" }
  | { kind: "handshakeDone" }
  | { kind: "handshakeFailed" };

const anyInput: fc.Arbitrary<Input> = fc.oneof(
  fc.constant({ kind: "send" as const }),
  fc.record({
    kind: fc.constant("close" as const),
    code: anyCode,
    reason: fc.string({ maxLength: 8 }),
  }),
  fc.constant({ kind: "terminate" as const }),
  fc.record({
    kind: fc.constant("closeFrame" as const),
    code: peerCode,
    reason: fc.string({ maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("ping" as const),
    payload: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }),
    unwritten: fc.integer({ min: 0, max: 4 }),
  }),
  fc.record({
    kind: fc.constant("fail" as const),
    code: fc.constantFrom(1002, 1007, 1008, 1009, 1011, 1013, 1006),
    reason: anyText,
  }),
  fc.constant({ kind: "transportEnded" as const }),
  fc.constant({ kind: "transportLost" as const }),
  fc.constant({ kind: "timerFired" as const }),
  fc.constant({ kind: "transportClosesAsAsked" as const }),
  fc.constant({ kind: "drained" as const }),
  fc.constant({ kind: "handshakeDone" as const }),
  fc.constant({ kind: "handshakeFailed" as const }),
);

/**
 * Runs `inputs` the way a transport would deliver them (a timer fires only while armed, the
 * transport closes on its own or once asked, `drained` only after it closed, nothing is parsed
 * once input stopped), then winds the connection down, and checks every property on the
 * recorded outputs.
 */
function runAndCheck(role: Role, startOpen: boolean, inputs: Input[]): void {
  const connection = new RecordingConnection(role);
  if (startOpen) connection.opened();
  const outputs = connection.outputs;
  /** What each output answered: the input that caused it. */
  const causes: string[] = [];
  let opened = startOpen;
  let timerArmed = false;
  let transportClosed = false;
  let inputOver = false;
  let closeFrameReceived = false;
  let failed = false;
  let handshakeError = false;
  let dataAfterClose = false;
  let previousState: number = connection.readyState;

  const record = (cause: string) => {
    for (let i = causes.length; i < outputs.length; i++) {
      causes.push(cause);
      const output = outputs[i];
      if (output.kind === "armCloseTimer") timerArmed = true;
      if (output.kind === "clearCloseTimer") timerArmed = false;
      if (output.kind === "stopInput" || output.kind === "finishInput") inputOver = true;
    }
    const state = connection.readyState;
    assert.ok(state >= previousState, `readyState went back from ${previousState} to ${state}`);
    previousState = state;
  };

  for (const input of inputs) {
    const state = connection.readyState;
    const live = opened && state !== ReadyState.CLOSED;
    switch (input.kind) {
      case "send":
        // The Node class sends data only while OPEN.
        if (state === ReadyState.OPEN && outputs.some((o) => o.kind === "writeClose")) {
          dataAfterClose = true;
        }
        break;
      case "close":
        connection.close(input.code, input.reason);
        break;
      case "terminate":
        connection.terminate();
        break;
      case "closeFrame":
        if (live && !inputOver) {
          closeFrameReceived = true;
          connection.closeFrameReceived(input.code, input.reason);
        }
        break;
      case "ping":
        if (live && !inputOver) {
          connection.pingReceived(new Uint8Array(input.payload), input.unwritten);
        }
        break;
      case "fail":
        // A protocol error from the receiver, or a send past the backpressure limit.
        if (live) {
          failed = true;
          connection.fail(new Error(input.reason), input.code, input.reason);
        }
        break;
      case "transportEnded":
        if (live && !transportClosed) connection.transportEnded();
        break;
      case "transportLost":
        if (live && !transportClosed) {
          transportClosed = true;
          connection.transportClosed();
        }
        break;
      case "transportClosesAsAsked":
        if (
          live &&
          !transportClosed &&
          outputs.some((o) => o.kind === "destroyTransport" || o.kind === "endTransport")
        ) {
          transportClosed = true;
          connection.transportClosed();
        }
        break;
      case "timerFired":
        if (timerArmed) {
          timerArmed = false;
          connection.closeTimerFired();
        }
        break;
      case "drained":
        if (transportClosed) connection.drained();
        break;
      case "handshakeDone":
        if (state === ReadyState.CONNECTING) opened = true;
        connection.opened();
        break;
      case "handshakeFailed":
        if (!opened && state !== ReadyState.CLOSED) {
          handshakeError = true;
          connection.handshakeFailed(new Error("handshake failed"));
        }
        break;
    }
    record(input.kind);
  }
  // Wind down: the transport closes (or the handshake ends), and what was received is delivered.
  if (connection.readyState !== ReadyState.CLOSED) {
    if (!opened) {
      connection.handshakeFailed(null);
      record("handshakeFailed");
    } else {
      if (!transportClosed) {
        transportClosed = true;
        connection.transportClosed();
        record("transportLost");
      }
      connection.drained();
      record("drained");
    }
  }

  // Exactly one close event, last, and the connection CLOSED.
  const closedEvents = outputs.filter((output) => output.kind === "closed");
  assert.equal(closedEvents.length, 1);
  assert.equal(outputs.at(-1)?.kind, "closed");
  assert.equal(connection.readyState, ReadyState.CLOSED);
  const closed = closedEvents[0];
  assert.ok(closed.kind === "closed", "a close event");

  // At most one close frame, within 125 bytes, never with a code only reported locally.
  const closeFrames = outputs.filter((output) => output.kind === "writeClose");
  assert.ok(closeFrames.length <= 1, "more than one close frame");
  for (const frame of closeFrames) {
    assert.ok(frame.kind === "writeClose", "a close frame");
    assert.ok(frame.payload.length <= 125, "close frame over 125 bytes");
    if (frame.payload.length > 0) {
      assert.ok(frame.payload.length >= 2, "close frame of 1 byte");
      const code = (frame.payload[0] << 8) | frame.payload[1];
      assert.ok(isValidWireCloseCode(code), `close code ${code} sent`);
    }
  }
  assert.equal(dataAfterClose, false);
  if (!opened) assert.equal(outputs.filter((o) => o.kind !== "abandonHandshake").length, 1);

  // Nothing written after our close frame, nor once the transport is ending or gone; the
  // transport is ended at most once and destroyed at most once, at the moments the RFC allows.
  let closeWritten = false;
  let ended = false;
  let destroyed = false;
  let endCount = 0;
  let destroyCount = 0;
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    const cause = causes[i];
    switch (output.kind) {
      case "writeClose":
      case "writePong":
        assert.ok(!closeWritten, `${output.kind} after our close frame`);
        assert.ok(!ended && !destroyed, `${output.kind} once the transport was ending`);
        if (output.kind === "writeClose") closeWritten = true;
        break;
      case "endTransport":
        endCount++;
        ended = true;
        assert.ok(!destroyed, "endTransport after destroyTransport");
        // The server closes TCP first after the closing handshake; either role ends it after
        // failing the connection or once the peer ended its side.
        assert.ok(
          cause === "fail" ||
            cause === "transportEnded" ||
            (cause === "closeFrame" && role === "server"),
          `endTransport caused by ${cause} (${role})`,
        );
        break;
      case "destroyTransport":
        destroyCount++;
        destroyed = true;
        assert.ok(
          cause === "terminate" || cause === "timerFired" || cause === "ping",
          `destroyTransport caused by ${cause}`,
        );
        break;
      case "armCloseTimer":
        assert.ok(!destroyed, "close timer armed after destroyTransport");
        break;
    }
  }
  assert.ok(endCount <= 1 && destroyCount <= 1, "transport ended or destroyed twice");

  // The code reported: the peer's (1005 for its close frame without one), else 1006.
  if (!closeFrameReceived) assert.equal(closed.code, 1006);
  else assert.notEqual(closed.code, 1006);
  // Clean exactly when both close frames were exchanged (ours possibly due after the transport
  // closed) and this end did not fail the connection.
  const ourCloseDone = closeFrames.length === 1 || (closeFrameReceived && transportClosed);
  assert.equal(closed.wasClean, closeFrameReceived && ourCloseDone && !failed);
  // `error` precedes `close` exactly when the connection failed or the handshake did.
  assert.equal(closed.error !== null, failed || handshakeError);
}

describe("WebSocketConnection: generated input sequences", () => {
  for (const role of ["server", "client"] as const) {
    it(`${role}: every interleaving keeps the closing handshake's rules`, () => {
      fc.assert(
        fc.property(fc.boolean(), fc.array(anyInput, { maxLength: 14 }), (startOpen, inputs) =>
          runAndCheck(role, startOpen, inputs),
        ),
        { numRuns: 4000 },
      );
    });
  }
});

/**
 * An Autobahn-style test case and its verdict. A case sends frames through a {@link FuzzSession};
 * the verdict compares what the peer did with the expected event lists and close behaviour:
 * - OK: the events match the strict expectation and the close is as expected;
 * - NON-STRICT: they match the lenient expectation (e.g. the peer failed later than it could), or
 *   the close was acceptable but not the preferred one (e.g. the fuzzer had to drop TCP);
 * - INFORMATIONAL: the spec leaves the outcome open; only crashes and violations fail it;
 * - UNIMPLEMENTED: the peer declined an optional feature the case needs (permessage-deflate);
 * - FAILED: anything else, including any protocol violation by the peer.
 */
import type { FuzzEvent, FuzzSession } from "./fuzz-session.js";

/** Verdict names, as Autobahn reports them. */
export type Behavior = "OK" | "NON-STRICT" | "INFORMATIONAL" | "UNIMPLEMENTED" | "FAILED";

/** How the connection must end. */
export interface ExpectedClose {
  /** The fuzzer starts the closing handshake (true) or the peer fails/closes (false). */
  closedByMe: boolean;
  /** Close codes the peer may send (an empty close or a dropped connection is also accepted). */
  codes: number[];
  /** Both close frames must be exchanged. */
  requireClean: boolean;
}

/** permessage-deflate setup of a case, for both runners. */
export interface DeflateSetup {
  /** Sec-WebSocket-Extensions offer the fuzzing client sends (server under test). */
  clientOffer: string;
  /** Options for the client under test (mirrored runs): what it offers. */
  subjectClientOptions: Record<string, number | boolean>;
  /** What the fuzzing server answers to the subject client's offer (mirrored runs). */
  serverResponse: string;
}

/** One case. */
export interface ConformanceCase {
  /** "1.1.1", ... */
  id: string;
  description: string;
  /** Strict expectation (OK) and, optionally, a lenient one (NON-STRICT). */
  expected: { ok: FuzzEvent[]; nonStrict?: FuzzEvent[] };
  expectedClose: ExpectedClose;
  /** Outcome left open by the spec. */
  informational?: boolean;
  deflate?: DeflateSetup;
  /** Sends the case's frames. The runner then waits (bounded) for the connection to end. */
  run(session: FuzzSession): Promise<void>;
  /** Replaces the event comparison (e.g. hashing long message sequences). */
  judgeEvents?(session: FuzzSession): { behavior: Behavior; detail: string };
  /** Milliseconds the case may take in all (default 10 s). */
  timeoutMs?: number;
}

/** The verdict of one case run. */
export interface CaseResult {
  id: string;
  behavior: Behavior;
  detail: string;
  ms: number;
}

function sameEvent(a: FuzzEvent, b: FuzzEvent): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "timeout" && b.kind === "timeout") return a.label === b.label;
  if (a.kind === "message" && b.kind === "message")
    return a.isBinary === b.isBinary && a.data.equals(b.data);
  if ((a.kind === "ping" || a.kind === "pong") && (b.kind === "ping" || b.kind === "pong"))
    return a.data.equals(b.data);
  return false;
}

/** Event lists are equal, element by element. */
export function sameEvents(a: FuzzEvent[], b: FuzzEvent[]): boolean {
  return a.length === b.length && a.every((event, i) => sameEvent(event, b[i]));
}

/** A short description of events for failure messages. */
export function describeEvents(events: FuzzEvent[]): string {
  const parts = events.slice(0, 8).map((e) => {
    if (e.kind === "timeout") return `timeout ${e.label}`;
    const shown =
      e.data.length > 24
        ? `${e.data.subarray(0, 24).toString("hex")}... (${e.data.length} bytes)`
        : e.data.toString("hex");
    return e.kind === "message"
      ? `${e.isBinary ? "binary" : "text"} ${shown}`
      : `${e.kind} ${shown}`;
  });
  return `[${parts.join(", ")}${events.length > 8 ? `, ... ${events.length} in all` : ""}]`;
}

/** Applies Autobahn's rules to a finished session. */
export function judge(
  testCase: ConformanceCase,
  session: FuzzSession,
): { behavior: Behavior; detail: string } {
  if (session.violations.length > 0) {
    return {
      behavior: "FAILED",
      detail: `the peer broke the protocol: ${session.violations.join("; ")}`,
    };
  }
  let events: { behavior: Behavior; detail: string };
  if (testCase.judgeEvents) events = testCase.judgeEvents(session);
  else if (sameEvents(session.events, testCase.expected.ok))
    events = { behavior: "OK", detail: "events as expected" };
  else if (testCase.expected.nonStrict && sameEvents(session.events, testCase.expected.nonStrict)) {
    events = { behavior: "NON-STRICT", detail: "events match the lenient expectation" };
  } else {
    events = {
      behavior: "FAILED",
      detail: `events ${describeEvents(session.events)}, expected ${describeEvents(testCase.expected.ok)}`,
    };
  }
  const close = testCase.expectedClose;
  const closeText = `close code ${session.remoteCloseCode ?? "none"}, closedByMe ${session.closedByMe}, clean ${session.wasClean}`;
  let closeProblem: { behavior: Behavior; detail: string } | undefined;
  if (close.closedByMe !== session.closedByMe) {
    closeProblem = {
      behavior: "FAILED",
      detail: `the connection was closed by the wrong endpoint (${closeText})`,
    };
  } else if (close.requireClean && !session.wasClean) {
    closeProblem = {
      behavior: "FAILED",
      detail: `the close handshake was required but not completed (${closeText})`,
    };
  } else if (
    session.remoteCloseCode !== undefined &&
    !close.codes.includes(session.remoteCloseCode)
  ) {
    closeProblem = {
      behavior: "FAILED",
      detail: `wrong close code: ${closeText}, expected one of ${close.codes.join(",")}`,
    };
  } else if (session.role === "client" && session.droppedByMe) {
    closeProblem = {
      behavior: "NON-STRICT",
      detail: "the server did not close TCP; the fuzzer had to",
    };
  } else if (!close.closedByMe && !session.closeReceived) {
    closeProblem = {
      behavior: "NON-STRICT",
      detail: "the peer failed the connection without a close frame",
    };
  }
  if (testCase.informational) {
    if (closeProblem?.behavior === "FAILED" && close.closedByMe === session.closedByMe) {
      // Informational cases still must not get an invalid close code or hang.
      if (session.remoteCloseCode !== undefined && !close.codes.includes(session.remoteCloseCode))
        return closeProblem;
    }
    return { behavior: "INFORMATIONAL", detail: `${events.detail}; ${closeText}` };
  }
  if (events.behavior === "FAILED") return events;
  if (closeProblem?.behavior === "FAILED") return closeProblem;
  if (closeProblem || events.behavior === "NON-STRICT") {
    return { behavior: "NON-STRICT", detail: closeProblem ? closeProblem.detail : events.detail };
  }
  return events;
}

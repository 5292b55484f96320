/**
 * The `verifyClient` hook in its three forms (ws's synchronous and callback forms, plus a
 * Promise-returning one), reduced to one outcome.
 * @module
 */

import type { IncomingMessage } from "node:http";

/** What `verifyClient` learns about a connecting client. */
export interface VerifyClientInfo {
  /** The `Origin` header, when the client sent one (browsers always do). */
  origin: string | undefined;
  /** Whether the connection came over TLS. */
  secure: boolean;
  /** The upgrade request: URL, headers, socket. */
  req: IncomingMessage;
}

/** How a Promise-returning `verifyClient` refuses a client with a chosen answer. */
export interface VerifyClientRejection {
  /** HTTP status (default 401). */
  code?: number;
  /** Body text (default: the status text). */
  message?: string;
  /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
  headers?: Record<string, string>;
}

/** The callback of the asynchronous form: `done(false, 403, "Forbidden")` refuses. */
export type VerifyClientDone = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string>,
) => void;

/**
 * Decides whether a client may connect, before the handshake is answered. Three forms:
 * - synchronous, `(info) => boolean`: `false` refuses with 401;
 * - Promise, `async (info) => boolean | VerifyClientRejection`: a rejection object refuses with
 *   its status, message and headers;
 * - callback (recognized, as in ws, by declaring two parameters), `(info, done) => void`:
 *   `done(false, 403, "Forbidden")` refuses.
 *
 * One signature covers all three so TypeScript can type an inline hook of any form.
 */
export type VerifyClient = (
  info: VerifyClientInfo,
  done: VerifyClientDone,
  // biome-ignore lint/suspicious/noConfusingVoidType: the callback form returns nothing.
) => boolean | Promise<boolean | VerifyClientRejection> | void;

/** The decision, whichever form made it. `error`: the hook threw or its Promise rejected. */
export type VerifyOutcome =
  | { accepted: true }
  | { accepted: false; status: number; message?: string; headers?: Record<string, string> }
  | { accepted: false; error: unknown };

const ACCEPTED: VerifyOutcome = { accepted: true };

/** Given to one-parameter hooks, which decide by their return value and never call it. */
function ignoreDone(): void {}

/** An object is a rejection; otherwise truthiness decides, as ws does for the sync form. */
function fromResult(result: unknown): VerifyOutcome {
  if (result !== null && typeof result === "object") {
    const rejection = result as VerifyClientRejection;
    return {
      accepted: false,
      status: rejection.code || 401,
      message: rejection.message,
      headers: rejection.headers,
    };
  }
  return result ? ACCEPTED : { accepted: false, status: 401 };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}

/**
 * Runs `verify` and calls `decide` exactly once with the outcome: synchronously for the
 * synchronous form, later for the others. Never throws.
 */
export function runVerifyClient(
  verify: VerifyClient,
  info: VerifyClientInfo,
  decide: (outcome: VerifyOutcome) => void,
): void {
  let decided = false;
  const once = (outcome: VerifyOutcome): void => {
    if (decided) return;
    decided = true;
    decide(outcome);
  };
  let returned: unknown;
  try {
    if (verify.length >= 2) {
      verify(info, (result, code, message, headers) => {
        once(result ? ACCEPTED : { accepted: false, status: code || 401, message, headers });
      });
      return;
    }
    returned = verify(info, ignoreDone);
  } catch (error) {
    once({ accepted: false, error });
    return;
  }
  if (isThenable(returned)) {
    returned.then(
      (result) => once(fromResult(result)),
      (error: unknown) => once({ accepted: false, error }),
    );
  } else {
    once(fromResult(returned));
  }
}

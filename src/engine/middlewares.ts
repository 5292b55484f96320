/**
 * Runs Express-style middlewares in order; an error passed to `next` (or thrown) stops the chain.
 * A middleware that answers the request itself simply never calls `next`.
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { EngineMiddleware } from "./options.js";

/** Calls `done()` after the last middleware, or `done(error)` at the first failure. */
export function runMiddlewares(
  middlewares: readonly EngineMiddleware[],
  request: IncomingMessage,
  response: ServerResponse,
  done: (error?: unknown) => void,
): void {
  if (middlewares.length === 0) {
    done();
    return;
  }
  const run = (index: number): void => {
    let called = false;
    const next = (error?: unknown): void => {
      // A middleware calling next twice must not run the rest of the chain twice.
      if (called) return;
      called = true;
      if (error !== undefined && error !== null) done(error);
      else if (index + 1 < middlewares.length) run(index + 1);
      else done();
    };
    try {
      middlewares[index](request, response, next);
    } catch (error) {
      next(error ?? new Error("middleware failed"));
    }
  };
  run(0);
}

/**
 * CORS for the HTTP long-polling requests, with the semantics of the `cors` package that the
 * reference server uses as a middleware: headers on every request, and preflight (`OPTIONS`)
 * requests answered with 204 unless `preflightContinue`.
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { firstHeaderValue } from "../protocol/websocket/http-tokens.js";
import type {
  CorsOptions,
  CorsOptionsDelegate,
  EngineMiddleware,
  StaticCorsOrigin,
} from "./options.js";

const DEFAULT_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE";

/** The middleware applying `options` (an object or a per-request delegate). */
export function createCorsMiddleware(options: CorsOptions | CorsOptionsDelegate): EngineMiddleware {
  return (request, response, next) => {
    if (typeof options !== "function") {
      resolveOrigin(options, request, response, next);
      return;
    }
    options(request, (error, resolved) => {
      if (error) next(error);
      else resolveOrigin(resolved ?? {}, request, response, next);
    });
  };
}

/** Runs an origin function if there is one; `false` or no origin from it means no CORS at all. */
function resolveOrigin(
  options: CorsOptions,
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
): void {
  const origin = options.origin ?? "*";
  if (typeof origin !== "function") {
    if (origin === false) next();
    else applyCors(options, origin, request, response, next);
    return;
  }
  origin(firstHeaderValue(request.headers.origin), (error, decided) => {
    if (error || !decided) next(error ?? undefined);
    else applyCors(options, decided, request, response, next);
  });
}

function applyCors(
  options: CorsOptions,
  origin: StaticCorsOrigin,
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
): void {
  setAllowOrigin(origin, firstHeaderValue(request.headers.origin), response);
  if (options.credentials === true) {
    response.setHeader("Access-Control-Allow-Credentials", "true");
  }
  const exposed = joinList(options.exposedHeaders);
  if (exposed) response.setHeader("Access-Control-Expose-Headers", exposed);
  if (request.method !== "OPTIONS") {
    next();
    return;
  }
  response.setHeader("Access-Control-Allow-Methods", joinList(options.methods) || DEFAULT_METHODS);
  const allowed = joinList(options.allowedHeaders);
  if (allowed) {
    response.setHeader("Access-Control-Allow-Headers", allowed);
  } else {
    const requested = firstHeaderValue(request.headers["access-control-request-headers"]);
    if (requested) response.setHeader("Access-Control-Allow-Headers", requested);
    appendVary(response, "Access-Control-Request-Headers");
  }
  if (typeof options.maxAge === "number" && Number.isFinite(options.maxAge)) {
    response.setHeader("Access-Control-Max-Age", String(options.maxAge));
  }
  if (options.preflightContinue) {
    next();
    return;
  }
  response.statusCode = options.optionsSuccessStatus ?? 204;
  response.setHeader("Content-Length", "0");
  response.end();
}

function setAllowOrigin(
  origin: StaticCorsOrigin,
  requestOrigin: string | undefined,
  response: ServerResponse,
): void {
  if (origin === "*") {
    response.setHeader("Access-Control-Allow-Origin", "*");
    return;
  }
  if (typeof origin === "string") {
    response.setHeader("Access-Control-Allow-Origin", origin);
  } else if (requestOrigin !== undefined && isOriginAllowed(requestOrigin, origin)) {
    response.setHeader("Access-Control-Allow-Origin", requestOrigin);
  }
  // The answer depends on the request's origin: caches must key on it.
  appendVary(response, "Origin");
}

function isOriginAllowed(requestOrigin: string, allowed: StaticCorsOrigin): boolean {
  if (Array.isArray(allowed)) return allowed.some((entry) => isOriginAllowed(requestOrigin, entry));
  if (typeof allowed === "string") return requestOrigin === allowed;
  if (allowed instanceof RegExp) {
    allowed.lastIndex = 0;
    return allowed.test(requestOrigin);
  }
  return allowed;
}

function joinList(value: string | string[] | undefined): string {
  if (value === undefined) return "";
  return Array.isArray(value) ? value.join(",") : value;
}

/** Adds `field` to the Vary header unless it is already there (or Vary is `*`). */
function appendVary(response: ServerResponse, field: string): void {
  const current = response.getHeader("Vary");
  const text = Array.isArray(current) ? current.join(", ") : current ? String(current) : "";
  if (text === "") {
    response.setHeader("Vary", field);
    return;
  }
  const fields = text.split(",").map((entry) => entry.trim().toLowerCase());
  if (fields.includes("*") || fields.includes(field.toLowerCase())) return;
  response.setHeader("Vary", `${text}, ${field}`);
}

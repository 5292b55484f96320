/**
 * HTTP long-polling over `fetch`: one GET at a time reads payloads (the first one is the
 * handshake), POSTs write batches of packets. Payloads are Engine.IO v4's: packets joined by the
 * record separator, binary messages as "b" + base64.
 * @module
 */

import {
  decodePayload,
  type EnginePacket,
  EnginePacketType,
  encodePayload,
} from "../../protocol/engine/index.js";
import { describeCause } from "./failure-details.js";
import type { EngineTimers, FetchInitLike, FetchLike, FetchResponseLike } from "./options.js";
import {
  describeRefusal,
  type RefusalDetails,
  reasonFromBody,
  type Transport,
  TransportError,
  type TransportEvents,
} from "./transport.js";

/** Settings of a {@link PollingTransport}. */
export interface PollingSettings {
  /** The URL of the next request (it changes: session id, cache buster). */
  url(): string;
  /** Where the requests go, without the query (`http://host/socket.io/`), for error messages. */
  endpoint: string;
  fetch: FetchLike;
  /** Called once when the transport has no request left (its connections can go). */
  release?: () => void;
  extraHeaders: Record<string, string> | undefined;
  withCredentials: boolean;
  /** Ms a request may take (socket.io-client's `requestTimeout`); 0 or undefined: no limit. */
  requestTimeout?: number | undefined;
  /** Bounds the wait for the answer to the close packet before everything is aborted. */
  timers: EngineTimers;
}

/** How long the close packet's POST may take before the transport gives up on it. */
const CLOSE_POST_TIMEOUT_MS = 10_000;
/** How long reading an error body for its reason may delay the error. */
const REASON_WAIT_MS = 1000;

/**
 * "failing": a request was refused and the body is being read for the server's reason; the
 * transport takes nothing more and reports only that error (unless closed meanwhile).
 */
type PollingState = "idle" | "opening" | "open" | "pausing" | "paused" | "failing" | "closed";

/** A request bounded by `requestTimeout`: its own abort signal, also fired by the transport's. */
interface RequestLimit {
  readonly signal: AbortSignal;
  /** The time ran out (the request was aborted for it). */
  expired: boolean;
  /** Stops the timer (the request ended). */
  done(): void;
}

const CLOSE_PAYLOAD = encodePayload([{ type: EnginePacketType.Close }]);

/**
 * The polling transport. Exported by the client as `Fetch`, `XHR` and `NodeXHR` too, the names of
 * socket.io-client's polling implementations, for `transports: [Fetch, WebSocket]`.
 */
export class PollingTransport implements Transport {
  /** "polling" (on the prototype too: `transports` lists may name the transport by its class). */
  get name(): "polling" {
    return "polling";
  }
  #state: PollingState = "idle";
  /** A GET is in flight. */
  #polling = false;
  /** No POST in flight (and open). */
  #writable = false;
  #onPaused: (() => void) | null = null;
  /** Settles when the POST in flight has ended (either way); null when none is. */
  #postInFlight: Promise<unknown> | null = null;
  /** Aborts every request in flight when the transport is done. */
  readonly #abort = new AbortController();
  #released = false;
  /** Status of the last successful GET (named when its payload turns out not to be Engine.IO). */
  #lastStatus = 0;
  readonly #settings: PollingSettings;
  readonly #events: TransportEvents;
  readonly #getHeaders: Record<string, string>;
  readonly #postHeaders: Record<string, string>;
  readonly #credentials: FetchInitLike["credentials"];

  constructor(settings: PollingSettings, events: TransportEvents) {
    this.#settings = settings;
    this.#events = events;
    this.#getHeaders = { ...settings.extraHeaders };
    this.#postHeaders = { "content-type": "text/plain;charset=UTF-8", ...settings.extraHeaders };
    // "same-origin" rather than "omit" without withCredentials: that is what XMLHttpRequest does,
    // so same-origin cookies (sticky-session load balancers) still work.
    this.#credentials = settings.withCredentials ? "include" : "same-origin";
  }

  get writable(): boolean {
    return this.#writable;
  }

  open(): void {
    if (this.#state !== "idle") return;
    this.#state = "opening";
    this.#poll();
  }

  send(packets: readonly EnginePacket[]): void {
    if (!this.#writable) return;
    this.#writable = false;
    const limit = this.#limit();
    const post = this.#request("POST", encodePayload(packets), limit?.signal);
    this.#postInFlight = post.then(
      (response) => {
        limit?.done();
        this.#postInFlight = null;
        this.#onPostResponse(response);
      },
      (error: unknown) => {
        limit?.done();
        this.#postInFlight = null;
        this.#failRequest("fetch write error", error, limit);
      },
    );
  }

  pause(onPaused: () => void): void {
    if (this.#state !== "open") return;
    this.#state = "pausing";
    this.#onPaused = onPaused;
    this.#checkPaused();
  }

  resume(): void {
    if (this.#state !== "pausing" && this.#state !== "paused") return;
    this.#state = "open";
    this.#onPaused = null;
    if (!this.#polling) this.#poll();
  }

  close(): void {
    const state = this.#state;
    if (state === "closed") return;
    this.#state = "closed";
    this.#writable = false;
    if (state === "idle" || state === "opening" || state === "failing") {
      // No session to tell about yet (or the handshake answer is still on its way: the server
      // then drops the session at its heartbeat deadline), or a refused one.
      this.#finish();
      return;
    }
    // Tell the server after any POST in flight (the server refuses overlapping POSTs), then abort
    // the GET still pending: aborting first could make the server see a broken request
    // ("transport error") instead of a close. Bounded: a dead path never answers.
    // The URL now: the session id is forgotten once the client has closed.
    const url = this.#settings.url();
    const timers = this.#settings.timers;
    const timer = timers.setTimeout(() => this.#finish(), CLOSE_POST_TIMEOUT_MS);
    const finish = () => {
      timers.clearTimeout(timer);
      this.#finish();
    };
    const sendClose = () =>
      this.#request("POST", CLOSE_PAYLOAD, undefined, url).then((response) => response.text());
    (this.#postInFlight ?? Promise.resolve()).then(sendClose).then(finish, finish);
  }

  discard(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#writable = false;
    this.#finish();
  }

  /** Ends every request in flight and releases the connections (once). */
  #finish(): void {
    if (this.#released) return;
    this.#released = true;
    this.#abort.abort();
    this.#settings.release?.();
  }

  /**
   * One request, ended by `signal` (default: the transport's, fired when it is done). Never throws
   * synchronously.
   */
  #request(
    method: "GET" | "POST",
    body: string | undefined,
    signal: AbortSignal = this.#abort.signal,
    url: string = this.#settings.url(),
  ): Promise<FetchResponseLike> {
    const init: FetchInitLike = {
      method,
      headers: method === "GET" ? this.#getHeaders : this.#postHeaders,
      credentials: this.#credentials,
      signal,
    };
    if (body !== undefined) init.body = body;
    try {
      return this.#settings.fetch(url, init);
    } catch (error) {
      // A fetch that throws synchronously (none available, a bad header) fails like a network error.
      return Promise.reject(error);
    }
  }

  /**
   * A signal for one request that fires when the transport is done or after `requestTimeout`;
   * null (use the transport's signal) when there is no limit.
   */
  #limit(): RequestLimit | null {
    const ms = this.#settings.requestTimeout;
    if (ms === undefined || !(ms > 0)) return null;
    const { timers } = this.#settings;
    const controller = new AbortController();
    const parent = this.#abort.signal;
    const abort = (): void => controller.abort();
    parent.addEventListener("abort", abort);
    const timer = timers.setTimeout(() => {
      limit.expired = true;
      controller.abort();
    }, ms);
    const limit: RequestLimit = {
      signal: controller.signal,
      expired: false,
      done: () => {
        timers.clearTimeout(timer);
        parent.removeEventListener("abort", abort);
      },
    };
    return limit;
  }

  #poll(): void {
    this.#polling = true;
    // The limit covers the whole answer, body included, as XMLHttpRequest's timeout does.
    const limit = this.#limit();
    this.#request("GET", undefined, limit?.signal)
      .then((response) => {
        if (this.#isDone()) return undefined;
        if (!response.ok) {
          limit?.done();
          this.#refused("fetch read error", response);
          return undefined;
        }
        this.#lastStatus = response.status;
        return response.text();
      })
      .then(
        (text) => {
          limit?.done();
          if (text !== undefined) this.#onPayload(text);
        },
        (error: unknown) => {
          limit?.done();
          this.#failRequest("fetch read error", error, limit);
        },
      );
  }

  #onPayload(text: string): void {
    if (this.#isDone()) return;
    const decoded = decodePayload(text);
    if (!decoded.ok) {
      // Garbage in answer to the handshake: most likely not an Engine.IO server at all.
      const reason =
        this.#state === "opening"
          ? `${this.#settings.endpoint} answered HTTP ${this.#lastStatus} with something that is not Engine.IO (${decoded.reason})`
          : decoded.reason;
      this.#state = "closed";
      this.#writable = false;
      this.#finish();
      this.#events.decodeError(reason);
      return;
    }
    const packets = decoded.packets;
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i];
      if (this.#state === "opening" && packet.type === EnginePacketType.Open) {
        this.#state = "open";
        this.#writable = true;
        this.#events.open();
        if (this.#isClosed()) return;
      }
      if (packet.type === EnginePacketType.Close) {
        this.#state = "closed";
        this.#writable = false;
        this.#finish();
        this.#events.close({ description: "transport closed by the server" });
        return;
      }
      this.#events.packet(packet);
      // A listener may have closed or discarded the transport: nothing more is delivered.
      if (this.#isClosed()) return;
    }
    this.#polling = false;
    if (this.#state === "open" || this.#state === "opening") this.#poll();
    else this.#checkPaused();
  }

  #onPostResponse(response: FetchResponseLike): void {
    if (this.#isDone()) return;
    if (!response.ok) {
      this.#refused("fetch write error", response);
      return;
    }
    // Read the short "ok" so the connection can be reused (cancelling may close it instead).
    response.text().catch(ignore);
    this.#writable = true;
    this.#events.drain();
    this.#checkPaused();
  }

  /** Re-reads the state (TypeScript keeps the narrowing of `#state` across calls otherwise). */
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  /** Closed, or failing: nothing received is acted on any more. */
  #isDone(): boolean {
    return this.#state === "closed" || this.#state === "failing";
  }

  #checkPaused(): void {
    if (this.#state !== "pausing" || this.#polling || !this.#writable) return;
    this.#state = "paused";
    const onPaused = this.#onPaused;
    this.#onPaused = null;
    onPaused?.();
  }

  /**
   * The server answered with an error status: the error names the status, the endpoint and the
   * server's reason, read from the body (bounded in time) before reporting.
   */
  #refused(base: string, response: FetchResponseLike): void {
    this.#state = "failing";
    this.#writable = false;
    readReason(response, this.#settings.timers).then((reason) => {
      if (this.#state !== "failing") return;
      const refusal: RefusalDetails = {
        status: response.status,
        url: this.#settings.endpoint,
        reason,
      };
      const message = `${base}: ${describeRefusal(refusal, response.statusText)}`;
      this.#fail(message, response.status, response, refusal);
    });
  }

  /** A request that got no answer: a network failure, or `requestTimeout` ran out. */
  #failRequest(base: string, error: unknown, limit: RequestLimit | null): void {
    if (this.#isDone()) return;
    const { endpoint, requestTimeout } = this.#settings;
    if (limit?.expired) {
      const why = `no answer within ${requestTimeout} ms (requestTimeout)`;
      this.#fail(`${base}: ${why} from ${endpoint}`, new Error(why));
      return;
    }
    const cause = describeCause(error);
    this.#fail(cause === undefined ? base : `${base}: ${cause} (${endpoint})`, error);
  }

  #fail(message: string, description: unknown, context?: unknown, refusal?: RefusalDetails): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#writable = false;
    this.#finish();
    this.#events.error(new TransportError(message, description, context, refusal));
  }
}

/**
 * The server's reason in an error response, if the body arrives within {@link REASON_WAIT_MS}
 * (Node's fetch keeps only the first 4 KiB of an error body); otherwise it is discarded.
 */
function readReason(
  response: FetchResponseLike,
  timers: EngineTimers,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = timers.setTimeout(() => {
      discardBody(response);
      resolve(undefined);
    }, REASON_WAIT_MS);
    response
      .text()
      .then(reasonFromBody, ignore)
      .then((reason) => {
        timers.clearTimeout(timer);
        resolve(reason);
      });
  });
}

/** Releases a response body nobody reads (Node keeps the connection busy until it is consumed). */
function discardBody(response: FetchResponseLike): void {
  const body = response.body;
  if (body != null) body.cancel().catch(ignore);
}

function ignore(): undefined {
  return undefined;
}

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
import type { EngineTimers, FetchInitLike, FetchLike, FetchResponseLike } from "./options.js";
import { type Transport, TransportError, type TransportEvents } from "./transport.js";

/** Settings of a {@link PollingTransport}. */
export interface PollingSettings {
  /** The URL of the next request (it changes: session id, cache buster). */
  url(): string;
  fetch: FetchLike;
  /** Called once when the transport has no request left (its connections can go). */
  release?: () => void;
  extraHeaders: Record<string, string> | undefined;
  withCredentials: boolean;
  /** Bounds the wait for the answer to the close packet before everything is aborted. */
  timers: EngineTimers;
}

/** How long the close packet's POST may take before the transport gives up on it. */
const CLOSE_POST_TIMEOUT_MS = 10_000;

type PollingState = "idle" | "opening" | "open" | "pausing" | "paused" | "closed";

const CLOSE_PAYLOAD = encodePayload([{ type: EnginePacketType.Close }]);

/** The polling transport. */
export class PollingTransport implements Transport {
  readonly name = "polling";
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
    const post = this.#request("POST", encodePayload(packets), true);
    this.#postInFlight = post.then(
      (response) => {
        this.#postInFlight = null;
        this.#onPostResponse(response);
      },
      (error: unknown) => {
        this.#postInFlight = null;
        this.#fail("fetch write error", error);
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
    if (state === "idle" || state === "opening") {
      // No session to tell about yet (or the handshake answer is still on its way: the server
      // then drops the session at its heartbeat deadline).
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
      this.#request("POST", CLOSE_PAYLOAD, true, url).then((response) => response.text());
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

  /** One request; `abortable` ones end when the transport closes. Never throws synchronously. */
  #request(
    method: "GET" | "POST",
    body: string | undefined,
    abortable: boolean,
    url: string = this.#settings.url(),
  ): Promise<FetchResponseLike> {
    const init: FetchInitLike = {
      method,
      headers: method === "GET" ? this.#getHeaders : this.#postHeaders,
      credentials: this.#credentials,
    };
    if (body !== undefined) init.body = body;
    if (abortable) init.signal = this.#abort.signal;
    try {
      return this.#settings.fetch(url, init);
    } catch (error) {
      // A fetch that throws synchronously (none available, a bad header) fails like a network error.
      return Promise.reject(error);
    }
  }

  #poll(): void {
    this.#polling = true;
    this.#request("GET", undefined, true)
      .then((response) => {
        if (this.#state === "closed") return undefined;
        if (!response.ok) {
          discardBody(response);
          this.#fail("fetch read error", response.status, response);
          return undefined;
        }
        return response.text();
      })
      .then(
        (text) => {
          if (text !== undefined) this.#onPayload(text);
        },
        (error: unknown) => this.#fail("fetch read error", error),
      );
  }

  #onPayload(text: string): void {
    if (this.#state === "closed") return;
    const decoded = decodePayload(text);
    if (!decoded.ok) {
      this.#state = "closed";
      this.#writable = false;
      this.#finish();
      this.#events.decodeError(decoded.reason);
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
    if (this.#state === "closed") return;
    if (!response.ok) {
      discardBody(response);
      this.#fail("fetch write error", response.status, response);
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

  #checkPaused(): void {
    if (this.#state !== "pausing" || this.#polling || !this.#writable) return;
    this.#state = "paused";
    const onPaused = this.#onPaused;
    this.#onPaused = null;
    onPaused?.();
  }

  #fail(message: string, description: unknown, context?: unknown): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#writable = false;
    this.#finish();
    this.#events.error(new TransportError(message, description, context));
  }
}

/** Releases a response body nobody reads (Node keeps the connection busy until it is consumed). */
function discardBody(response: FetchResponseLike): void {
  const body = response.body;
  if (body != null) body.cancel().catch(ignore);
}

function ignore(): undefined {
  return undefined;
}

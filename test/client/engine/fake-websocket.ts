/**
 * A scripted WebSocket for upgrade failure tests: it never touches the network; each test says
 * what it does when created and when the client sends on it.
 */
import type {
  WebSocketCloseEventLike,
  WebSocketConstructorLike,
  WebSocketMessageEventLike,
} from "../../../src/client/engine/index.js";

export interface FakeScript {
  /** Runs in a microtask after construction. */
  created?(socket: FakeWebSocket): void;
  /** Runs on every `send`. */
  sent?(socket: FakeWebSocket, data: unknown): void;
}

export class FakeWebSocket {
  binaryType = "blob";
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: WebSocketMessageEventLike) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: WebSocketCloseEventLike) => void) | null = null;
  readonly sent: unknown[] = [];
  closed = false;
  readonly url: string;
  readonly #script: FakeScript;

  constructor(url: string, script: FakeScript) {
    this.url = url;
    this.#script = script;
    queueMicrotask(() => script.created?.(this));
  }

  send(data: unknown): void {
    this.sent.push(data);
    this.#script.sent?.(this, data);
  }

  close(): void {
    this.closed = true;
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(data: string | ArrayBuffer): void {
    this.onmessage?.({ data });
  }

  fail(): void {
    this.readyState = 3;
    this.onerror?.({ type: "error" });
    this.onclose?.({ code: 1006, reason: "" });
  }
}

/** A constructor creating {@link FakeWebSocket}s that follow `script`; they are kept in `made`. */
export function fakeWebSocket(script: FakeScript): {
  WebSocket: WebSocketConstructorLike;
  made: FakeWebSocket[];
} {
  const made: FakeWebSocket[] = [];
  class Scripted extends FakeWebSocket {
    constructor(url: string) {
      super(url, script);
      made.push(this);
    }
  }
  return { WebSocket: Scripted, made };
}

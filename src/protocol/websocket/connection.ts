/**
 * The state machine of one WebSocket connection after its opening handshake (RFC 6455 sections
 * 5.5 and 7), without I/O: the closing handshake, automatic pongs, _Fail the WebSocket
 * Connection_, the close timeout and which end closes the transport. What happened (a close frame
 * or ping parsed, a protocol error, a user call, the transport ending or closing, the close timer
 * firing) comes in as method calls; what to do (write a close frame or a pong, arm the close
 * timer, end or destroy the transport, report the close) goes out through the abstract methods a
 * subclass binds to its transport. Data messages never pass through here: the per-message path
 * only reads {@link WebSocketConnection.readyState}.
 * @module
 */

import { CloseCode, encodeClosePayload, isValidWireCloseCode } from "./close-codes.js";
import { MAX_CONTROL_PAYLOAD, type Role } from "./constants.js";

/** The WHATWG `readyState` values. */
export const ReadyState = {
  /** The opening handshake is under way. */
  CONNECTING: 0,
  /** Messages can be sent. */
  OPEN: 1,
  /** The closing handshake has started (or the transport is going away). */
  CLOSING: 2,
  /** The connection is closed and its `close` has been reported. */
  CLOSED: 3,
} as const;

/** One of the {@link ReadyState} values. */
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** How long the closing handshake may take before the transport is destroyed (ws's default). */
export const DEFAULT_CLOSE_TIMEOUT = 30_000;
/** ws's default `maxPendingAutoPongs`. */
export const DEFAULT_MAX_PENDING_AUTO_PONGS = 60;
/** Largest close reason: 125 payload bytes minus the 2-byte code (RFC 6455 section 5.5). */
export const MAX_CLOSE_REASON = MAX_CONTROL_PAYLOAD - 2;

/** The settings of a connection's closing handshake and automatic pongs. */
export interface ConnectionSettings {
  /** Ms the closing handshake may take before the transport is destroyed (default 30 s). */
  closeTimeout?: number;
  /** Answer pings with pongs (default true). */
  autoPong?: boolean;
  /** Unwritten automatic pongs at which the next ping destroys the transport (default 60; 0: no limit). */
  maxPendingAutoPongs?: number;
}

/** Where the transport is, as far as this connection has asked or been told. */
const Transport = {
  /** Not established: the opening handshake is under way, failed or was abandoned. */
  None: 0,
  /** Readable and writable. */
  Open: 1,
  /** Asked to end once everything written is flushed (our FIN): nothing more is written. */
  Ending: 2,
  /** Asked to be destroyed now. */
  Destroying: 3,
  /** Closed: nothing more can be written or asked of it. */
  Closed: 4,
} as const;

type Transport = (typeof Transport)[keyof typeof Transport];

/**
 * A WebSocket connection's state and rules, for either role; a subclass binds the outputs to a
 * transport and a timer. Each input runs to completion and may call several outputs, in order.
 */
export abstract class WebSocketConnection {
  /** Whether this end is the server, which closes the transport first (RFC 6455 section 7.1.1). */
  readonly #isServer: boolean;
  #readyState: ReadyState = ReadyState.CONNECTING;
  #transport: Transport = Transport.None;
  #closeTimeout = DEFAULT_CLOSE_TIMEOUT;
  #autoPong = true;
  #maxPendingAutoPongs = DEFAULT_MAX_PENDING_AUTO_PONGS;
  #closeFrameSent = false;
  #closeFrameReceived = false;
  #closeCode: number = CloseCode.Abnormal;
  #closeReason = "";
  #failure: Error | null = null;
  #wasClean = false;
  #closeTimerArmed = false;

  constructor(role: Role) {
    this.#isServer = role === "server";
  }

  /** Applies the settings that are given (the others keep their current values). */
  configure(settings: ConnectionSettings): void {
    if (settings.closeTimeout !== undefined) this.#closeTimeout = settings.closeTimeout;
    if (settings.autoPong !== undefined) this.#autoPong = settings.autoPong;
    if (settings.maxPendingAutoPongs !== undefined) {
      this.#maxPendingAutoPongs = settings.maxPendingAutoPongs;
    }
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED; it never goes back. */
  get readyState(): ReadyState {
    return this.#readyState;
  }

  /**
   * Set when CLOSED: both close frames were exchanged and this end did not fail the connection
   * (RFC 6455 section 7.1.5's "closed cleanly").
   */
  get wasClean(): boolean {
    return this.#wasClean;
  }

  // ---- inputs --------------------------------------------------------------------------------

  /** The opening handshake succeeded. */
  opened(): void {
    if (this.#readyState !== ReadyState.CONNECTING) return;
    this.#readyState = ReadyState.OPEN;
    this.#transport = Transport.Open;
  }

  /**
   * The application starts the closing handshake (`code` and `reason` already checked by the
   * caller: a reason without a code is not sent). While CONNECTING the attempt is abandoned.
   */
  close(code: number | undefined, reason: string | undefined): void {
    const state = this.#readyState;
    if (state === ReadyState.CLOSING || state === ReadyState.CLOSED) return;
    this.#readyState = ReadyState.CLOSING;
    if (state === ReadyState.CONNECTING) {
      this.abandonHandshake();
      return;
    }
    this.#sendCloseFrame(code, code === undefined ? undefined : reason);
    // Whichever role, this end now waits for the peer's close frame (section 7.1.2), bounded.
    this.#armCloseTimer();
  }

  /** The application drops the connection without a closing handshake (`close` reports 1006). */
  terminate(): void {
    const state = this.#readyState;
    if (state === ReadyState.CLOSED) return;
    if (this.#transport === Transport.None) {
      // No transport to drop: the opening handshake is abandoned (once).
      if (state === ReadyState.CONNECTING) {
        this.#readyState = ReadyState.CLOSING;
        this.abandonHandshake();
      }
      return;
    }
    this.#readyState = ReadyState.CLOSING;
    this.stopInput();
    this.#destroyTransport();
  }

  /**
   * The peer's close frame (`code` undefined: it had no payload). It is answered with the same
   * code and reason unless ours went first (section 5.5.1); the server then closes the transport
   * (section 7.1.1), the client waits for it to do so, at most `closeTimeout`.
   */
  closeFrameReceived(code: number | undefined, reason: string): void {
    if (this.#readyState === ReadyState.CLOSED || this.#transport === Transport.None) return;
    this.#closeFrameReceived = true;
    this.#closeCode = code ?? CloseCode.NoStatusReceived;
    this.#closeReason = reason;
    // Frames after a close frame are not read (section 5.5.1); those already parsed still are.
    this.finishInput();
    if (this.#readyState === ReadyState.OPEN) this.#readyState = ReadyState.CLOSING;
    // An empty close is answered with an empty one; ws echoes the reason too, so that a browser
    // that closed with a reason sees it again in its CloseEvent.
    this.#sendCloseFrame(code, code === undefined ? undefined : reason);
    if (this.#isServer) this.#endTransport();
    this.#armCloseTimer();
  }

  /**
   * A ping. `unwrittenAutoPongs`: pings already answered whose pong is not written yet; at
   * `maxPendingAutoPongs` the peer pings without reading, and the transport is destroyed.
   */
  pingReceived(payload: Uint8Array, unwrittenAutoPongs: number): void {
    if (!this.#autoPong || this.#readyState !== ReadyState.OPEN) return;
    const limit = this.#maxPendingAutoPongs;
    if (limit > 0 && unwrittenAutoPongs >= limit) this.terminate();
    else if (this.#transport === Transport.Open) this.writePong(payload);
  }

  /**
   * _Fail the WebSocket Connection_ (section 7.1.7): the peer broke the protocol or a limit was
   * reached. A close frame with `closeCode` and `reason` (cut to fit; default: the error's
   * message) unless one was sent, then the transport is ended, whichever role; `close` later
   * reports `error` (the first one only) and is never clean.
   */
  fail(error: Error, closeCode: number, reason: string = error.message): void {
    if (this.#readyState === ReadyState.CLOSED || this.#transport === Transport.None) return;
    if (this.#failure === null) this.#failure = error;
    this.stopInput();
    if (this.#readyState === ReadyState.OPEN) this.#readyState = ReadyState.CLOSING;
    this.#sendCloseFrame(closeCode, fitCloseReason(reason));
    this.#endTransport();
    this.#armCloseTimer();
  }

  /** The peer ended its side of the transport (TCP FIN): nothing more comes; end ours too. */
  transportEnded(): void {
    if (this.#transport === Transport.None || this.#transport === Transport.Closed) return;
    if (this.#readyState === ReadyState.OPEN) this.#readyState = ReadyState.CLOSING;
    this.#endTransport();
  }

  /** The close timer fired: the peer took too long; the transport is destroyed. */
  closeTimerFired(): void {
    if (!this.#closeTimerArmed) return;
    this.#closeTimerArmed = false;
    this.#destroyTransport();
  }

  /**
   * The transport is closed. Events already received may still be delivered (a close frame
   * among them); call {@link drained} once they are.
   */
  transportClosed(): void {
    if (this.#transport === Transport.None || this.#transport === Transport.Closed) return;
    this.#transport = Transport.Closed;
    if (this.#readyState === ReadyState.OPEN) this.#readyState = ReadyState.CLOSING;
    if (this.#closeTimerArmed) {
      this.#closeTimerArmed = false;
      this.clearCloseTimer();
    }
  }

  /**
   * Everything received before the transport closed has been delivered: the connection is
   * CLOSED, `close` is reported (section 7.1.4).
   */
  drained(): void {
    if (this.#readyState === ReadyState.CLOSED || this.#transport !== Transport.Closed) return;
    this.#readyState = ReadyState.CLOSED;
    this.stopInput();
    this.#wasClean = this.#closeFrameSent && this.#closeFrameReceived && this.#failure === null;
    this.closed(this.#closeCode, this.#closeReason, this.#wasClean, this.#failure);
  }

  /**
   * The opening handshake failed, was refused or was abandoned (`error` null: nothing to report
   * but `close`): CLOSED with 1006.
   */
  handshakeFailed(error: Error | null): void {
    if (this.#readyState === ReadyState.CLOSED || this.#transport !== Transport.None) return;
    this.#readyState = ReadyState.CLOSED;
    this.closed(CloseCode.Abnormal, "", false, error);
  }

  // ---- outputs, bound by the subclass ------------------------------------------------------

  /** Write a close frame with this payload (at most one per connection). */
  protected abstract writeClose(payload: Uint8Array): void;
  /** Write a pong answering a ping, with its payload. */
  protected abstract writePong(payload: Uint8Array): void;
  /** Close the transport once everything written is flushed (TCP FIN). */
  protected abstract endTransport(): void;
  /** Close the transport now, dropping what is not written; `transportClosed` follows. */
  protected abstract destroyTransport(): void;
  /** Call {@link closeTimerFired} in `ms` ms (at most one timer is armed at a time). */
  protected abstract armCloseTimer(ms: number): void;
  /** Cancel the armed close timer. */
  protected abstract clearCloseTimer(): void;
  /** Parse nothing more and drop what is received but undelivered. */
  protected abstract stopInput(): void;
  /** Parse nothing more, but deliver what is already parsed. */
  protected abstract finishInput(): void;
  /** Abort the opening handshake; `handshakeFailed` follows. */
  protected abstract abandonHandshake(): void;
  /** Report `close` (after `error` when `error` is not null); called exactly once. */
  protected abstract closed(
    code: number,
    reason: string,
    wasClean: boolean,
    error: Error | null,
  ): void;

  // ---- rules -------------------------------------------------------------------------------

  /**
   * Our close frame, once. A code that may not be on the wire (1005, 1006, 1015 are only
   * reported locally, section 7.4.1) goes as a close frame without a code.
   */
  #sendCloseFrame(code: number | undefined, reason: string | undefined): void {
    if (this.#closeFrameSent) return;
    this.#closeFrameSent = true;
    // Nothing can be written once the transport is ending or gone; the answer still counts as
    // given (a close frame read after the transport closed completes the handshake, as in ws).
    if (this.#transport !== Transport.Open) return;
    const valid = code !== undefined && isValidWireCloseCode(code);
    this.writeClose(encodeClosePayload(valid ? code : undefined, reason));
  }

  #endTransport(): void {
    if (this.#transport !== Transport.Open) return;
    this.#transport = Transport.Ending;
    this.endTransport();
  }

  #destroyTransport(): void {
    if (this.#transport !== Transport.Open && this.#transport !== Transport.Ending) return;
    this.#transport = Transport.Destroying;
    this.destroyTransport();
  }

  #armCloseTimer(): void {
    if (this.#closeTimerArmed) return;
    if (this.#transport !== Transport.Open && this.#transport !== Transport.Ending) return;
    this.#closeTimerArmed = true;
    this.armCloseTimer(this.#closeTimeout);
  }
}

/**
 * `reason` cut to the {@link MAX_CLOSE_REASON} UTF-8 bytes a close frame can carry: the longest
 * prefix that fits, never half a surrogate pair, and without a high surrogate left at the end of
 * a cut (it would be encoded as U+FFFD). A lone surrogate counts 3 bytes, as U+FFFD does.
 */
export function fitCloseReason(reason: string): string {
  const length = reason.length;
  let bytes = 0;
  let index = 0;
  while (index < length) {
    const unit = reason.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < length) {
      const next = reason.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        if (bytes + 4 > MAX_CLOSE_REASON) break;
        bytes += 4;
        index += 2;
        continue;
      }
    }
    const size = unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
    if (bytes + size > MAX_CLOSE_REASON) break;
    bytes += size;
    index++;
  }
  if (index === length) return reason;
  const last = reason.charCodeAt(index - 1);
  return last >= 0xd800 && last <= 0xdbff ? reason.slice(0, index - 1) : reason.slice(0, index);
}

/**
 * Synchronous calls on a persistent Node zlib stream, for permessage-deflate's small frames.
 *
 * Node has no public API for a synchronous zlib call that keeps its stream (the `*Sync`
 * functions make and free a zlib context per call; a stream's `write` goes through the thread
 * pool). A zlib stream's native handle has one, `writeSync`, which the `*Sync` functions use
 * themselves; this module calls it, with the result state Node keeps beside the handle. Both
 * are internals: {@link syncZlibAvailable} checks once that they exist and round-trip a message,
 * and when they do not (a future Node), callers keep to the thread pool.
 * @module
 */

import { Buffer } from "node:buffer";
import {
  constants,
  createDeflateRaw,
  type DeflateRaw,
  type InflateRaw,
  inflateRawSync,
} from "node:zlib";

/** The native handle's methods used here (Node's `Zlib` binding). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
  reset(): void;
}

/** The stream fields holding the handle and its result state ([avail_out, avail_in] after a call). */
interface StreamInternals {
  _handle?: unknown;
  _writeState?: unknown;
}

/**
 * Outputs are cut from one process-wide slab, never reused once cut (a new slab replaces a
 * full one), so a result is a view that its holder may keep: no copy per call, and a slab is
 * freed with the last result that points into it. 16 KiB as Node's own zlib output buffers.
 */
const SLAB_SIZE = 16 * 1024;
/** Below this much room left, a call starts a new slab rather than cut a tiny output. */
const MIN_ROOM = 2 * 1024;

/** The native handle and its result state of `stream`, or null when Node does not expose them. */
function internalsOf(
  stream: DeflateRaw | InflateRaw,
): { handle: ZlibHandle; state: Uint32Array } | null {
  const internals = stream as unknown as StreamInternals;
  const handle = internals._handle as Partial<ZlibHandle> | null | undefined;
  const state = internals._writeState;
  if (
    typeof handle?.writeSync !== "function" ||
    typeof handle.reset !== "function" ||
    !(state instanceof Uint32Array) ||
    state.length < 2
  ) {
    return null;
  }
  return { handle: handle as ZlibHandle, state };
}

let slab = Buffer.allocUnsafe(0);
/** Where the next output goes in `slab` (at its end: the first call makes one). */
let slabOffset = 0;
let available: boolean | null = null;

/** One zlib stream driven synchronously; see the module comment. */
export class SyncZlib {
  /** The stream this drives (destroyed by Node when a call fails; `errored` then says why). */
  readonly stream: DeflateRaw | InflateRaw;
  /** Input bytes the last call left unread. */
  inputLeft = 0;
  /** The last call filled its output: zlib holds more output for the same input. */
  outputFull = false;
  readonly #handle: ZlibHandle;
  readonly #state: Uint32Array;

  /**
   * Drives `stream` synchronously. {@link SyncZlib.of} is the way in: it answers null where this
   * throws.
   * @throws TypeError when this Node's zlib streams lack the internals used here.
   */
  constructor(stream: DeflateRaw | InflateRaw) {
    const internals = internalsOf(stream);
    if (internals === null) throw new TypeError("this Node's zlib streams have no writeSync");
    this.stream = stream;
    this.#handle = internals.handle;
    this.#state = internals.state;
  }

  /** Synchronous access to `stream`, or null when this Node does not offer it. */
  static of(stream: DeflateRaw | InflateRaw): SyncZlib | null {
    return internalsOf(stream) === null ? null : new SyncZlib(stream);
  }

  /**
   * One zlib call with Z_SYNC_FLUSH over `input` from `offset`, producing at most `maxOutput`
   * bytes (at most 16 KiB); `offset` must be within `input` (the native side aborts the process
   * on bounds it does not like, rather than throw). Returns what it produced (possibly empty), or null when zlib failed:
   * Node has then destroyed the stream, and `stream.errored` holds the error.
   */
  write(input: Uint8Array, offset: number, maxOutput: number): Buffer | null {
    // A closed handle would abort the process (a native assertion), not throw.
    if (this.stream.destroyed) return null;
    if (slab.length - slabOffset < MIN_ROOM) {
      slab = Buffer.allocUnsafe(SLAB_SIZE);
      slabOffset = 0;
    }
    const room = Math.min(maxOutput, slab.length - slabOffset);
    this.#handle.writeSync(
      constants.Z_SYNC_FLUSH,
      input,
      offset,
      input.length - offset,
      slab,
      slabOffset,
      room,
    );
    if (this.stream.destroyed) return null;
    const produced = room - this.#state[0];
    this.outputFull = this.#state[0] === 0;
    this.inputLeft = this.#state[1];
    const output = slab.subarray(slabOffset, slabOffset + produced);
    // Keep the next output 8-byte aligned, as Node's pool does.
    slabOffset += (produced + 7) & ~7;
    return output;
  }

  /** Resets the stream (deflateReset / inflateReset): an empty window, the next message alone. */
  reset(): void {
    this.#handle.reset();
  }
}

/**
 * Whether synchronous zlib calls work in this Node: the internals exist and a message
 * compressed through them inflates back (checked once, on first use).
 */
export function syncZlibAvailable(): boolean {
  if (available === null) available = selfTest();
  return available;
}

function selfTest(): boolean {
  let stream: DeflateRaw | null = null;
  try {
    stream = createDeflateRaw();
    const zlib = SyncZlib.of(stream);
    if (zlib === null) return false;
    const message = Buffer.from("permessage-deflate permessage-deflate");
    const output = zlib.write(message, 0, SLAB_SIZE);
    if (output === null || zlib.outputFull || zlib.inputLeft !== 0) return false;
    return inflateRawSync(output, { finishFlush: constants.Z_SYNC_FLUSH }).equals(message);
  } catch {
    return false;
  } finally {
    stream?.destroy();
  }
}

/**
 * The zlib edge of permessage-deflate (RFC 7692 section 7): compresses outgoing message frames,
 * inflates incoming ones with the inflated size capped while inflating, one zlib stream per
 * direction reused across messages, and a process-wide limit on zlib jobs in flight.
 * Frames up to `syncLimit` bytes run on the event loop (no thread-pool round trip); a direction
 * without context takeover compresses or inflates whole small messages with one zlib stream
 * shared by every connection of the same options. Parameter negotiation is pure and lives in
 * `protocol/websocket/permessage-deflate-params.ts`.
 * @module
 */

import { Buffer } from "node:buffer";
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type DeflateRaw,
  type InflateRaw,
  type ZlibOptions,
} from "node:zlib";
import { noop } from "../protocol/noop.js";
import { ByteAccumulator } from "../protocol/websocket/byte-accumulator.js";
import { CloseCode } from "../protocol/websocket/close-codes.js";
import type { Role } from "../protocol/websocket/constants.js";
import type {
  DeflateNegotiationOptions,
  DeflateParams,
} from "../protocol/websocket/permessage-deflate-params.js";
import { ConcurrencyLimiter, type LimitedTask } from "./concurrency-limiter.js";
import { SyncZlib, syncZlibAvailable } from "./zlib-sync.js";

/** Negotiation options plus how this end runs zlib. */
export interface PerMessageDeflateOptions extends DeflateNegotiationOptions {
  /**
   * Bytes; smaller messages are sent uncompressed (default 1024). Unlike ws, also with context
   * takeover, where ws compresses every message: as engine.io and socket.io-client apply it, and
   * a short message is not worth a zlib call. `threshold: 0` compresses everything, as ws then.
   */
  threshold?: number;
  /**
   * zlib jobs running at once, process-wide (default 10). Instances given the same value share
   * one limiter.
   */
  concurrencyLimit?: number;
  /**
   * Passed to zlib's deflateRaw, as ws does: `level`, `memLevel`, `strategy`, `chunkSize`,
   * `dictionary` (only for peers configured with the same one). As in ws, the negotiated window
   * replaces `windowBits`; `flush` and `finishFlush` are ignored: every frame ends with the sync
   * flush RFC 7692 needs.
   */
  zlibDeflateOptions?: ZlibOptions;
  /**
   * Passed to zlib's inflateRaw, as ws does: `chunkSize` (>= 64; also the granularity of the
   * maxPayload cap), `dictionary`. The window is always the negotiated one (a smaller one could
   * not read what the peer may send); `flush`, `finishFlush` and `maxOutputLength` are ignored
   * (maxPayload caps the inflated size).
   */
  zlibInflateOptions?: ZlibOptions;
  /**
   * Frames of at most this many bytes (uncompressed when sending, compressed when receiving)
   * run synchronously on the event loop; larger ones go to zlib's thread pool, within
   * `concurrencyLimit` (default 4096; 0 sends everything to the thread pool, as ws does). A
   * synchronous job stalls the loop for at most about 25 us when compressing and, for a
   * maximally compressed frame, 0.4 ms when inflating (4 MiB), never past maxPayload.
   */
  syncLimit?: number;
}

/** Called when a compress job ends; on success `result` is always set. */
export type CompressCallback = (error: Error | null, result?: Buffer) => void;

/** Called when a decompress job ends; on success `result` is always set (possibly empty). */
export type DecompressCallback = (error: DeflateError | null, result?: Buffer) => void;

/** A permessage-deflate failure, with the close code to fail the connection with. */
export class DeflateError extends Error {
  /** 1009 past maxPayload, 1007 for corrupt data, 1011 for a zlib fault or a closed instance. */
  readonly closeCode: number;

  constructor(message: string, closeCode: number) {
    super(message);
    this.name = "DeflateError";
    this.closeCode = closeCode;
  }
}

/** Appended to a received message and stripped from a sent one (RFC 7692 7.2.1, 7.2.2). */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY = Buffer.alloc(0);
const DEFAULT_THRESHOLD = 1024;
const DEFAULT_CONCURRENCY = 10;
const DEFAULT_SYNC_LIMIT = 4096;
const MIN_CHUNK_SIZE = 64;
/** Node's default zlib chunk size: the largest output of one synchronous zlib call. */
const SYNC_CHUNK = 16 * 1024;
/**
 * How many times one frame may end a DEFLATE stream (a block with BFINAL = 1) and go on with
 * more data. Two covers a stream that ended with the previous frame plus one ending in this
 * frame followed by RFC 7692's 0x00 padding; each end costs a new zlib stream, so a hostile peer
 * must not get more per frame.
 */
const MAX_STREAM_ENDS_PER_FRAME = 2;
/**
 * Compressed bytes up to which frames of one message, waiting for their turn, are merged into a
 * single inflate job. A message cut into tens of thousands of small compressed fragments then
 * costs a few zlib calls instead of one thread-pool round trip per fragment.
 */
const MERGE_LIMIT = 256 * 1024;

const sharedLimiters = new Map<number, ConcurrencyLimiter>();

/**
 * zlib streams shared by every instance made with the same options object (a server passes one
 * object for all its connections), by direction and window size (see {@link sharedKey}). Only
 * used for a whole message in one synchronous call and reset after it, so only for a direction
 * without context takeover, where each message starts from an empty window anyway: one zlib
 * context for the server instead of one per connection (uWebSockets' shared compressor and
 * decompressor).
 */
const sharedStreams = new WeakMap<PerMessageDeflateOptions, Map<number, SyncZlib>>();

/** The key of a shared stream among those of one options object. */
function sharedKey(inflate: boolean, windowBits: number): number {
  return inflate ? 16 + windowBits : windowBits;
}

/** The process-wide limiter for `concurrency`, created on first use. */
function sharedLimiter(concurrency: number): ConcurrencyLimiter {
  let limiter = sharedLimiters.get(concurrency);
  if (limiter === undefined) {
    limiter = new ConcurrencyLimiter(concurrency);
    sharedLimiters.set(concurrency, limiter);
  }
  return limiter;
}

interface Job {
  inflate: boolean;
  data: Uint8Array;
  fin: boolean;
  callback: DecompressCallback;
  /** Inflate: frames merged into this job (1 unless later frames were merged, see MERGE_LIMIT). */
  frames: number;
  /** Inflate, merged: the frames' bytes (taken into `data` when the job starts). */
  merged: ByteAccumulator | null;
  /** Inflate, merged: the callbacks of the frames after the first; each gets an empty result. */
  followers: DecompressCallback[] | null;
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

/** One buffer from the output chunks of a job: no copy when zlib produced a single chunk. */
function collect(chunks: Buffer[], length: number): Buffer {
  const result =
    chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
  chunks.length = 0;
  return result;
}

function endsWithTail(data: Buffer): boolean {
  const n = data.length;
  return (
    n >= 4 &&
    data[n - 4] === 0x00 &&
    data[n - 3] === 0x00 &&
    data[n - 2] === 0xff &&
    data[n - 1] === 0xff
  );
}

/**
 * permessage-deflate for one connection. Jobs (compress and decompress alike) run one at a time
 * and complete in call order; each needs a slot of the shared {@link ConcurrencyLimiter}.
 * zlib streams are created on first use and reused for every message. A job of at most
 * `syncLimit` bytes runs synchronously when its turn comes, and `compressNow` / `decompressNow`
 * run one at once when nothing is queued (callers then skip the callback round entirely).
 *
 * Window bits: this end sends with the window negotiated for its own direction (server:
 * `serverMaxWindowBits`, client: `clientMaxWindowBits`) and inflates with the other. zlib cannot
 * deflate with an 8-bit window; when 8 was negotiated for our sending side we deflate with 9.
 * That is still valid for a peer holding only 256 bytes of window: zlib's deflate never emits a
 * match farther back than `2^windowBits - 262` (its `MAX_DIST`), which is 250 for 9 bits.
 * (Some zlib forks once broke that bound in their "medium" strategy; the tests decode our 8-bit
 * output with a strict decoder so a Node built against such a zlib is caught.)
 */
export class PerMessageDeflate {
  /** Messages shorter than this many bytes should be sent uncompressed. */
  readonly threshold: number;

  readonly #limiter: ConcurrencyLimiter;
  readonly #maxPayload: number;
  readonly #deflateWindowBits: number;
  readonly #inflateWindowBits: number;
  readonly #deflateNoContextTakeover: boolean;
  readonly #inflateNoContextTakeover: boolean;
  /** Frames up to this many bytes run synchronously (see the option). */
  readonly #syncLimit: number;
  /** The options given: the key of the shared deflaters. */
  readonly #options: PerMessageDeflateOptions;
  readonly #deflateZlibOptions: ZlibOptions;
  readonly #inflateZlibOptions: ZlibOptions;
  /** Inflate output per zlib call, so also the granularity of the maxPayload cap. */
  readonly #inflateChunk: number;

  readonly #jobs: Job[] = [];
  #current: Job | null = null;
  /** True while this instance's task waits in the limiter or runs. */
  #scheduled = false;
  /** The limiter's `done` while a job runs. */
  #release: (() => void) | null = null;
  /** True while `start` runs: completions then wait a tick so callbacks never nest in calls. */
  #starting = false;
  #deferredError: DeflateError | null = null;
  #deferredResult: Buffer | undefined = undefined;
  #closed = false;
  readonly #task: LimitedTask = { run: (done) => this.#start(done) };

  #deflater: DeflateRaw | null = null;
  /** Synchronous access to `deflater`, when available. */
  #deflaterSync: SyncZlib | null = null;
  /** The last frame compressed did not end its message (the next one continues its stream). */
  #deflateMidMessage = false;
  #deflateWritten: () => void = noop;
  #deflateWriting = false;
  readonly #deflateChunks: Buffer[] = [];
  #deflateLength = 0;
  #deflateError: DeflateError | null = null;

  #inflater: InflateRaw | null = null;
  /** Synchronous access to `inflater`, when available. */
  #inflaterSync: SyncZlib | null = null;
  #inflateWritten: () => void = noop;
  #inflateWriting = false;
  readonly #inflateChunks: Buffer[] = [];
  /** Bytes inflated for the current frame. */
  #inflateLength = 0;
  /** Bytes inflated for the current message (what maxPayload caps). */
  #messageInflated = 0;
  /** Compressed bytes received for the current message. */
  #messageInput = 0;
  #inflatePiece: Uint8Array = EMPTY;
  #inflatePieceIsTail = false;
  #inflateBytesBefore = 0;
  #streamEndsThisFrame = 0;
  /** Stream ends allowed in the current inflate job: MAX_STREAM_ENDS_PER_FRAME per frame. */
  #streamEndsAllowed = MAX_STREAM_ENDS_PER_FRAME;
  #inflateError: DeflateError | null = null;

  /**
   * @param params the negotiated parameters (both directions).
   * @param role which end this is; decides which window and context rules apply to sending.
   * @param options threshold, concurrency and zlib tuning; negotiation fields are ignored here.
   * @param maxPayload largest inflated message in bytes; 0 means no limit.
   * @throws RangeError for out-of-range parameters or options (a programming error).
   */
  constructor(
    params: DeflateParams,
    role: Role,
    options: PerMessageDeflateOptions = {},
    maxPayload = 0,
  ) {
    checkInteger("serverMaxWindowBits", params.serverMaxWindowBits, 8, 15);
    checkInteger("clientMaxWindowBits", params.clientMaxWindowBits, 8, 15);
    if (!(maxPayload >= 0)) throw new RangeError(`maxPayload must be >= 0, got ${maxPayload}`);
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    if (!(threshold >= 0)) throw new RangeError(`threshold must be >= 0, got ${threshold}`);
    const concurrency = options.concurrencyLimit ?? DEFAULT_CONCURRENCY;
    checkInteger("concurrencyLimit", concurrency, 1, Number.MAX_SAFE_INTEGER);
    const syncLimit = options.syncLimit ?? DEFAULT_SYNC_LIMIT;
    checkInteger("syncLimit", syncLimit, 0, Number.MAX_SAFE_INTEGER);
    const deflateOptions = options.zlibDeflateOptions ?? {};
    const inflateOptions = options.zlibInflateOptions ?? {};
    const { level, memLevel, strategy } = deflateOptions;
    if (level !== undefined) checkInteger("zlibDeflateOptions.level", level, -1, 9);
    if (memLevel !== undefined) checkInteger("zlibDeflateOptions.memLevel", memLevel, 1, 9);
    if (strategy !== undefined) checkInteger("zlibDeflateOptions.strategy", strategy, 0, 4);
    for (const [name, zlibOptions] of [
      ["zlibDeflateOptions", deflateOptions],
      ["zlibInflateOptions", inflateOptions],
    ] as const) {
      if (zlibOptions.chunkSize !== undefined) {
        checkInteger(`${name}.chunkSize`, zlibOptions.chunkSize, MIN_CHUNK_SIZE, 2 ** 30);
      }
      const { dictionary } = zlibOptions;
      if (
        dictionary !== undefined &&
        !ArrayBuffer.isView(dictionary) &&
        !(dictionary instanceof ArrayBuffer)
      ) {
        throw new TypeError(
          `${name}.dictionary must be a Buffer, TypedArray, DataView or ArrayBuffer`,
        );
      }
    }

    const server = role === "server";
    const sendBits = server ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    // zlib turns a raw-deflate request for 8 into 9 (or rejects it); see the class comment for
    // why 9 stays within what an 8-bit peer can inflate.
    this.#deflateWindowBits = Math.max(sendBits, 9);
    this.#inflateWindowBits = server ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    this.#deflateNoContextTakeover = server
      ? params.serverNoContextTakeover
      : params.clientNoContextTakeover;
    this.#inflateNoContextTakeover = server
      ? params.clientNoContextTakeover
      : params.serverNoContextTakeover;
    this.threshold = threshold;
    this.#maxPayload = maxPayload;
    this.#limiter = sharedLimiter(concurrency);
    // -1: nothing runs synchronously, not even an empty frame.
    this.#syncLimit = syncLimit > 0 && syncZlibAvailable() ? syncLimit : -1;
    this.#options = options;
    // As ws: everything given goes to zlib, but the window and the flush mode are ours.
    this.#deflateZlibOptions = {
      ...deflateOptions,
      windowBits: this.#deflateWindowBits,
      // Every write ends with a sync flush: one zlib call per frame instead of write + flush.
      flush: constants.Z_SYNC_FLUSH,
      finishFlush: constants.Z_SYNC_FLUSH,
    };
    delete this.#deflateZlibOptions.maxOutputLength;
    this.#inflateZlibOptions = {
      ...inflateOptions,
      windowBits: this.#inflateWindowBits,
      flush: constants.Z_SYNC_FLUSH,
      finishFlush: constants.Z_SYNC_FLUSH,
    };
    delete this.#inflateZlibOptions.maxOutputLength;
    this.#inflateChunk = Math.min(inflateOptions.chunkSize ?? SYNC_CHUNK, SYNC_CHUNK);
  }

  /**
   * Compresses one frame's worth of a message. The result is the frame payload: a sync-flushed
   * DEFLATE block sequence, with the trailing 00 00 ff ff removed when `fin` (RFC 7692 7.2.1).
   * `data` is read later, so it must not change until the callback. When the sending direction
   * has no context takeover, the compression context is reset after each message.
   */
  compress(data: Uint8Array, fin: boolean, callback: CompressCallback): void {
    this.#enqueue(false, data, fin, callback);
  }

  /**
   * Inflates one frame of a compressed message (frames in order; 00 00 ff ff is appended when
   * `fin`). The message is the concatenation of the results of its frames, in call order; each
   * result may be empty. Frames of one message that wait for their turn together are inflated
   * in one zlib call: the first one's result then holds the bytes of all of them, and the others
   * get empty results (a message in 65,536 small fragments costs a few zlib calls, not one
   * thread-pool round trip each). The error's closeCode is 1009 as soon as the
   * message's inflated size passes maxPayload (checked on each zlib output chunk, so output is
   * never buffered past the cap), 1007 for corrupt data. After an error, later decompress calls
   * fail with the same error.
   */
  decompress(data: Uint8Array, fin: boolean, callback: DecompressCallback): void {
    this.#enqueue(true, data, fin, callback);
  }

  /**
   * {@link compress} done now, on the event loop: returns the frame payload when `data` is at
   * most `syncLimit` bytes and no job of this instance is waiting. Null means "use compress()":
   * too large, jobs waiting, or a failure (which compress() then reports). `data` is not kept.
   */
  compressNow(data: Uint8Array, fin: boolean): Buffer | null {
    if (data.length > this.#syncLimit || !this.#idle || this.#deflateError !== null) return null;
    return this.#deflateSync(data, fin);
  }

  /**
   * {@link decompress} done now, on the event loop: returns the frame's inflated bytes when
   * `data` is at most `syncLimit` bytes and no job of this instance is waiting. Null means "use
   * decompress()": too large, jobs waiting, or a failure (corrupt data, maxPayload), which
   * decompress() then reports with its close code. `data` is not kept.
   */
  decompressNow(data: Uint8Array, fin: boolean): Buffer | null {
    if (data.length > this.#syncLimit || !this.#idle || this.#inflateError !== null) return null;
    this.#streamEndsThisFrame = 0;
    this.#streamEndsAllowed = MAX_STREAM_ENDS_PER_FRAME;
    this.#messageInput += data.length;
    return this.#inflateSync(data, fin);
  }

  /** No job running or waiting: a synchronous call cannot overtake one. */
  get #idle(): boolean {
    return !this.#closed && !this.#scheduled && this.#jobs.length === 0;
  }

  /**
   * Frees the zlib streams. The running and queued jobs' callbacks get an error (on a later
   * tick, in call order), and so does any later call. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = new DeflateError("permessage-deflate is closed", CloseCode.InternalError);
    this.#deflateWriting = false;
    this.#inflateWriting = false;
    this.#deflater?.destroy();
    this.#deflater = null;
    this.#deflaterSync = null;
    this.#inflater?.destroy();
    this.#inflater = null;
    this.#inflaterSync = null;
    this.#deflateChunks.length = 0;
    this.#inflateChunks.length = 0;
    this.#inflatePiece = EMPTY;
    const current = this.#current;
    this.#current = null;
    this.#deferredResult = undefined;
    const release = this.#release;
    this.#release = null;
    release?.();
    if (current !== null) failJob(current, error);
    for (const job of this.#jobs) failJob(job, error);
    this.#jobs.length = 0;
  }

  #enqueue(inflate: boolean, data: Uint8Array, fin: boolean, callback: DecompressCallback) {
    if (this.#closed) {
      process.nextTick(
        callback,
        new DeflateError("permessage-deflate is closed", CloseCode.InternalError),
      );
      return;
    }
    const jobs = this.#jobs;
    const last = jobs.length > 0 ? jobs[jobs.length - 1] : undefined;
    if (
      inflate &&
      last?.inflate &&
      !last.fin &&
      (last.merged === null ? last.data.length : last.merged.length) + data.length <= MERGE_LIMIT
    ) {
      // The next frame of a message whose previous frame still waits: inflate them together.
      // The message is the concatenation of the frames' results, so the first callback gets
      // the whole output and the others an empty one.
      if (last.merged === null) {
        last.merged = new ByteAccumulator();
        last.merged.append(last.data);
        last.followers = [];
      }
      last.merged.append(data);
      last.followers!.push(callback);
      last.frames++;
      last.fin = fin;
      return;
    }
    jobs.push({ inflate, data, fin, callback, frames: 1, merged: null, followers: null });
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#limiter.add(this.#task);
    }
  }

  /** Runs the next job; called by the limiter once a slot is ours. */
  #start(done: () => void): void {
    const job = this.#jobs.shift();
    if (this.#closed || job === undefined) {
      done();
      return;
    }
    this.#release = done;
    this.#current = job;
    this.#starting = true;
    try {
      if (job.inflate) this.#startInflate(job);
      else this.#startDeflate(job);
    } finally {
      this.#starting = false;
    }
  }

  /** Ends the current job; waits a tick when called from inside `start`. */
  #complete(error: DeflateError | null, result?: Buffer): void {
    if (this.#starting) {
      this.#deferredError = error;
      this.#deferredResult = result;
      process.nextTick(this.#completeDeferred);
      return;
    }
    this.#finish(error, result);
  }

  readonly #completeDeferred = (): void => {
    const error = this.#deferredError;
    const result = this.#deferredResult;
    this.#deferredError = null;
    this.#deferredResult = undefined;
    this.#finish(error, result);
  };

  #finish(error: DeflateError | null, result: Buffer | undefined): void {
    const job = this.#current;
    if (job === null) return; // closed meanwhile: close() already answered it
    this.#current = null;
    const release = this.#release;
    this.#release = null;
    this.#scheduled = false;
    release?.();
    try {
      if (error === null) {
        job.callback(null, result);
        if (job.followers !== null) for (const follower of job.followers) follower(null, EMPTY);
      } else {
        job.callback(error);
        if (job.followers !== null) for (const follower of job.followers) follower(error);
      }
    } finally {
      // The callback may have queued (and so scheduled) more work, or closed us.
      if (!this.#closed && !this.#scheduled && this.#jobs.length > 0) {
        this.#scheduled = true;
        this.#limiter.add(this.#task);
      }
    }
  }

  // ---- compress ------------------------------------------------------------------------------

  #startDeflate(job: Job): void {
    if (this.#deflateError !== null) {
      this.#complete(this.#deflateError);
      return;
    }
    if (job.data.length <= this.#syncLimit) {
      const result = this.#deflateSync(job.data, job.fin);
      if (result !== null) {
        this.#complete(null, result);
        return;
      }
      // failDeflate has completed the job; without one, there was no synchronous access.
      if (this.#deflateError !== null) return;
    }
    const stream = this.#deflater ?? this.#createDeflater();
    if (stream === null) return;
    this.#deflateWriting = true;
    stream.write(job.data, this.#deflateWritten);
  }

  #createDeflater(): DeflateRaw | null {
    let stream: DeflateRaw;
    try {
      stream = createDeflateRaw(this.#deflateZlibOptions);
    } catch (error) {
      this.#failDeflate(
        new DeflateError(`zlib deflate: ${String(error)}`, CloseCode.InternalError),
      );
      return null;
    }
    stream.on("data", (chunk: Buffer) => {
      if (stream !== this.#deflater || !this.#deflateWriting) return;
      this.#deflateChunks.push(chunk);
      this.#deflateLength += chunk.length;
    });
    stream.on("error", (error: Error) => {
      if (stream !== this.#deflater) return;
      this.#failDeflate(
        new DeflateError(`zlib deflate: ${error.message}`, CloseCode.InternalError),
      );
    });
    this.#deflateWritten = () => this.#deflated(stream);
    this.#deflater = stream;
    this.#deflaterSync = this.#syncLimit > 0 ? SyncZlib.of(stream) : null;
    return stream;
  }

  /**
   * Compresses one frame on the event loop. A whole message without context takeover goes
   * through the deflater shared by this instance's options, the rest through this instance's.
   * Returns null on failure (failDeflate has run, `deflateError` is set) or when no synchronous
   * zlib is at hand.
   */
  #deflateSync(data: Uint8Array, fin: boolean): Buffer | null {
    let zlib: SyncZlib | null = null;
    const shared = fin && this.#deflateNoContextTakeover && !this.#deflateMidMessage;
    if (shared) zlib = this.#sharedStream(false);
    if (zlib === null) {
      if (this.#deflater === null && this.#createDeflater() === null) return null;
      zlib = this.#deflaterSync;
      if (zlib === null) return null;
    }
    let output = zlib.write(data, 0, SYNC_CHUNK);
    if (output !== null && zlib.outputFull) {
      // Larger than one output chunk (incompressible data near syncLimit).
      const chunks = [output];
      let length = output.length;
      while (output !== null && zlib.outputFull) {
        output = zlib.write(data, data.length - zlib.inputLeft, SYNC_CHUNK);
        if (output !== null) {
          chunks.push(output);
          length += output.length;
        }
      }
      if (output !== null) output = collect(chunks, length);
    }
    if (output === null) {
      const error = zlib.stream.errored;
      if (zlib.stream !== this.#deflater) this.#dropSharedStream(zlib, false);
      this.#failDeflate(
        new DeflateError(`zlib deflate: ${error?.message}`, CloseCode.InternalError),
      );
      return null;
    }
    const result = this.#finishDeflateFrame(output, fin);
    if (fin && this.#deflateNoContextTakeover) zlib.reset();
    if (result === null) {
      // zlib's output broke RFC 7692's framing; nothing more can be trusted from this deflater.
      if (zlib.stream !== this.#deflater) this.#dropSharedStream(zlib, false);
      this.#failDeflate(
        new DeflateError("zlib sync flush did not end in 00 00 ff ff", CloseCode.InternalError),
      );
      return null;
    }
    this.#deflateMidMessage = !fin;
    return result;
  }

  /** The stream shared by instances with these options for this direction, made on first use. */
  #sharedStream(inflate: boolean): SyncZlib | null {
    let streams = sharedStreams.get(this.#options);
    if (streams === undefined) {
      streams = new Map();
      sharedStreams.set(this.#options, streams);
    }
    const key = sharedKey(inflate, inflate ? this.#inflateWindowBits : this.#deflateWindowBits);
    const existing = streams.get(key);
    if (existing !== undefined) return existing;
    let stream: DeflateRaw | InflateRaw;
    try {
      stream = inflate
        ? createInflateRaw(this.#inflateZlibOptions)
        : createDeflateRaw(this.#deflateZlibOptions);
    } catch {
      return null; // this instance's own stream reports the problem
    }
    // Only driven synchronously: a failure is seen by the caller; this keeps it from throwing.
    stream.on("error", noop);
    const zlib = SyncZlib.of(stream);
    if (zlib === null) {
      stream.destroy();
      return null;
    }
    streams.set(key, zlib);
    return zlib;
  }

  #dropSharedStream(zlib: SyncZlib, inflate: boolean): void {
    const streams = sharedStreams.get(this.#options);
    const key = sharedKey(inflate, inflate ? this.#inflateWindowBits : this.#deflateWindowBits);
    if (streams?.get(key) === zlib) streams.delete(key);
    zlib.stream.destroy();
  }

  /**
   * A frame's compressed bytes as sent: for the last frame, without the 00 00 ff ff tail, or
   * RFC 7692 7.2.3.6's single 0x00 when there was nothing to flush. Null when a last frame does
   * not end with the tail (zlib misbehaved).
   */
  #finishDeflateFrame(output: Buffer, fin: boolean): Buffer | null {
    if (!fin) return output;
    // Nothing to flush since the last sync flush: 0x00, which with the receiver's 00 00 ff ff
    // is an empty stored block.
    if (output.length === 0) return Buffer.from([0x00]);
    return endsWithTail(output) ? output.subarray(0, output.length - 4) : null;
  }

  #deflated(stream: DeflateRaw): void {
    if (stream !== this.#deflater || !this.#deflateWriting) return;
    pullBuffered(stream);
    this.#deflateWriting = false;
    const job = this.#current!;
    const result = this.#finishDeflateFrame(
      collect(this.#deflateChunks, this.#deflateLength),
      job.fin,
    );
    this.#deflateLength = 0;
    if (result === null) {
      this.#failDeflate(
        new DeflateError("zlib sync flush did not end in 00 00 ff ff", CloseCode.InternalError),
      );
      return;
    }
    if (job.fin && this.#deflateNoContextTakeover) stream.reset();
    this.#deflateMidMessage = !job.fin;
    this.#complete(null, result);
  }

  #failDeflate(error: DeflateError): void {
    this.#deflateError = error;
    this.#deflateWriting = false;
    this.#deflater?.destroy();
    this.#deflater = null;
    this.#deflaterSync = null;
    this.#deflateChunks.length = 0;
    this.#deflateLength = 0;
    // Only a compress job can be waiting on the deflater (jobs run one at a time).
    if (this.#current !== null && !this.#current.inflate) this.#complete(error);
  }

  // ---- decompress ----------------------------------------------------------------------------

  #startInflate(job: Job): void {
    if (this.#inflateError !== null) {
      this.#complete(this.#inflateError);
      return;
    }
    if (job.merged !== null) {
      job.data = job.merged.take();
      job.merged = null;
    }
    this.#streamEndsThisFrame = 0;
    this.#streamEndsAllowed = MAX_STREAM_ENDS_PER_FRAME * job.frames;
    this.#messageInput += job.data.length;
    if (job.data.length <= this.#syncLimit) {
      const result = this.#inflateSync(job.data, job.fin);
      // On failure failInflate has already completed the job.
      if (result !== null) this.#complete(null, result);
      return;
    }
    this.#writeInflate(job.data, false);
  }

  /**
   * Inflates one frame on the event loop, as the asynchronous path does (tail, stream ends,
   * the maxPayload cap on each output chunk). Returns null on failure (failInflate has run).
   */
  #inflateSync(data: Uint8Array, fin: boolean): Buffer | null {
    // A whole message (its only frame) without context takeover: the shared inflater.
    const shared =
      fin && this.#inflateNoContextTakeover && this.#messageInput === data.length
        ? this.#sharedStream(true)
        : null;
    // As inflatePieceDone: an empty compressed message gets no tail.
    const ok =
      this.#inflatePieceSync(data, false, shared) &&
      !(fin && this.#messageInput > 0 && !this.#inflatePieceSync(DEFLATE_TAIL, true, shared));
    // Ready for the next message, whatever happened to this one (a failure destroys it).
    if (shared !== null && !shared.stream.destroyed) shared.reset();
    return ok ? this.#takeInflated(fin) : null;
  }

  /** Inflates `piece` with `shared`, or with this instance's inflater when null. */
  #inflatePieceSync(piece: Uint8Array, isTail: boolean, shared: SyncZlib | null): boolean {
    let offset = 0;
    while (offset < piece.length) {
      let zlib = shared;
      if (zlib === null) {
        if (this.#inflater === null) {
          // The DEFLATE stream ended with a final block: nothing left to flush.
          if (isTail) return true;
          if (this.#createInflater() === null) return false;
        }
        zlib = this.#inflaterSync;
      }
      if (zlib === null) {
        this.#failInflate(
          new DeflateError("zlib inflate: no synchronous access", CloseCode.InternalError),
        );
        return false;
      }
      do {
        const output = zlib.write(piece, offset, this.#inflateChunk);
        if (output === null) {
          if (zlib === shared) this.#dropSharedStream(zlib, true);
          this.#failInflate(inflateFailure(zlib.stream.errored));
          return false;
        }
        offset = piece.length - zlib.inputLeft;
        if (output.length > 0 && !this.#acceptInflated(output)) return false;
      } while (zlib.outputFull);
      if (offset >= piece.length) return true;
      // zlib stopped before the end of the input: a final block ended the DEFLATE stream (see
      // inflated()); the rest starts a new one (a reset stream is a new one).
      if (zlib === shared) zlib.reset();
      else this.#discardInflater();
      if (isTail) return true;
      if (++this.#streamEndsThisFrame > this.#streamEndsAllowed) {
        this.#failInflate(
          new DeflateError("Too many DEFLATE stream ends in one frame", CloseCode.InvalidPayload),
        );
        return false;
      }
    }
    return true;
  }

  /** Counts and keeps one inflated chunk; false (and failInflate) past maxPayload. */
  #acceptInflated(chunk: Buffer): boolean {
    this.#messageInflated += chunk.length;
    if (this.#maxPayload > 0 && this.#messageInflated > this.#maxPayload) {
      // Stop here: nothing more of this message is inflated (a zip bomb stops at this chunk).
      this.#failInflate(
        new DeflateError(
          `Decompressed message exceeds maxPayload (${this.#maxPayload} bytes)`,
          CloseCode.MessageTooBig,
        ),
      );
      return false;
    }
    this.#inflateChunks.push(chunk);
    this.#inflateLength += chunk.length;
    return true;
  }

  /** The frame's inflated bytes; at the end of a message, resets the per-message state. */
  #takeInflated(fin: boolean): Buffer {
    const result = collect(this.#inflateChunks, this.#inflateLength);
    this.#inflateLength = 0;
    if (fin) {
      this.#messageInput = 0;
      this.#messageInflated = 0;
      if (this.#inflateNoContextTakeover) this.#inflater?.reset();
    }
    return result;
  }

  /** Feeds `piece` (the frame's data, or our 00 00 ff ff when `isTail`) to the inflater. */
  #writeInflate(piece: Uint8Array, isTail: boolean): void {
    if (piece.length === 0) {
      this.#inflatePieceDone(isTail);
      return;
    }
    let stream = this.#inflater;
    if (stream === null) {
      // The DEFLATE stream ended with a final block: there is nothing left to flush.
      if (isTail) {
        this.#inflatePieceDone(true);
        return;
      }
      stream = this.#createInflater();
      if (stream === null) return;
    }
    this.#inflatePiece = piece;
    this.#inflatePieceIsTail = isTail;
    this.#inflateBytesBefore = stream.bytesWritten;
    this.#inflateWriting = true;
    stream.write(piece, this.#inflateWritten);
  }

  #createInflater(): InflateRaw | null {
    let stream: InflateRaw;
    try {
      stream = createInflateRaw(this.#inflateZlibOptions);
    } catch (error) {
      this.#failInflate(
        new DeflateError(`zlib inflate: ${String(error)}`, CloseCode.InternalError),
      );
      return null;
    }
    stream.on("data", (chunk: Buffer) => {
      // Past maxPayload, acceptInflated calls failInflate, which destroys the stream: zlib
      // checks for that after each output chunk, so a zip bomb stops at this chunk.
      if (stream === this.#inflater && this.#inflateWriting) this.#acceptInflated(chunk);
    });
    stream.on("error", (error: Error) => {
      if (stream === this.#inflater) this.#failInflate(inflateFailure(error));
    });
    this.#inflateWritten = () => this.#inflated(stream);
    this.#inflater = stream;
    this.#inflaterSync = this.#syncLimit > 0 ? SyncZlib.of(stream) : null;
    return stream;
  }

  #inflated(stream: InflateRaw): void {
    if (stream !== this.#inflater || !this.#inflateWriting) return;
    pullBuffered(stream);
    if (stream !== this.#inflater) return; // the cap was hit on buffered output
    this.#inflateWriting = false;
    const piece = this.#inflatePiece;
    this.#inflatePiece = EMPTY;
    const consumed = stream.bytesWritten - this.#inflateBytesBefore;
    if (consumed >= piece.length) {
      this.#inflatePieceDone(this.#inflatePieceIsTail);
      return;
    }
    // zlib stops consuming at the end of a block with BFINAL = 1: that DEFLATE stream is over.
    // RFC 7692 7.2.1 and 7.2.3.4 let peers flush that way, with more blocks after it. What
    // follows starts a new zlib stream object (Node has ended this one's readable side), with
    // an empty window: a peer referring back across that boundary fails with 1007.
    this.#discardInflater();
    if (this.#inflatePieceIsTail) {
      // Our own 00 00 ff ff after a final block: nothing to flush.
      this.#inflatePieceDone(true);
      return;
    }
    if (++this.#streamEndsThisFrame > this.#streamEndsAllowed) {
      this.#failInflate(
        new DeflateError("Too many DEFLATE stream ends in one frame", CloseCode.InvalidPayload),
      );
      return;
    }
    this.#writeInflate(piece.subarray(consumed), false);
  }

  #inflatePieceDone(isTail: boolean): void {
    const job = this.#current!;
    // An empty compressed message has no DEFLATE data at all; appending the tail alone would
    // leave the inflater inside a stored block header, so it inflates to nothing instead.
    if (!isTail && job.fin && this.#messageInput > 0) {
      this.#writeInflate(DEFLATE_TAIL, true);
      return;
    }
    this.#complete(null, this.#takeInflated(job.fin));
  }

  #discardInflater(): void {
    const stream = this.#inflater;
    this.#inflater = null;
    this.#inflaterSync = null;
    this.#inflateWritten = noop;
    stream?.destroy();
  }

  #failInflate(error: DeflateError): void {
    this.#inflateError = error;
    this.#inflateWriting = false;
    this.#inflatePiece = EMPTY;
    this.#discardInflater();
    this.#inflateChunks.length = 0;
    this.#inflateLength = 0;
    this.#messageInflated = 0;
    this.#messageInput = 0;
    // Only a decompress job can be waiting on the inflater (jobs run one at a time).
    if (this.#current?.inflate) this.#complete(error);
  }
}

/** The DeflateError for a zlib inflate error: 1011 when zlib ran out of memory, else 1007. */
function inflateFailure(error: (Error & { code?: string }) | null | undefined): DeflateError {
  const code = error?.code === "Z_MEM_ERROR" ? CloseCode.InternalError : CloseCode.InvalidPayload;
  return new DeflateError(`Invalid compressed data: ${error?.message ?? "zlib failed"}`, code);
}

/** Tells a job's callbacks (a merged job has several) that it failed, on a later tick. */
function failJob(job: Job, error: DeflateError): void {
  process.nextTick(job.callback, error);
  if (job.followers !== null)
    for (const follower of job.followers) process.nextTick(follower, error);
}

/**
 * Makes sure every output chunk of the finished write went through the 'data' listener. In
 * flowing mode Node emits pushed chunks synchronously, but a chunk pushed before the stream
 * started flowing waits in the readable buffer; read() hands it to 'data' now instead of
 * letting it surface later inside the next job.
 */
function pullBuffered(stream: DeflateRaw | InflateRaw): void {
  while (stream.readableLength > 0 && stream.read() !== null) {
    // read() emitted 'data'
  }
}

/**
 * The fuzzer's own permessage-deflate (RFC 7692) on Node's zlib, independent of src/. One
 * compressor and one decompressor per connection; "no context takeover" starts each message
 * with a fresh stream.
 */
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type DeflateRaw,
  type InflateRaw,
} from "node:zlib";

/** The 4 bytes a sync flush ends with, removed from (and re-added to) each message. */
const SYNC_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Negotiated parameters, seen from one side: what it sends and what it receives. */
export interface DeflateDirectionParams {
  /** Window bits the sender may use (8..15). */
  windowBits: number;
  /** The sender resets its context after each message. */
  noContextTakeover: boolean;
}

/** Writes `data` through a zlib stream and returns what a sync flush yields. */
function flushThrough(stream: DeflateRaw | InflateRaw, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onError = (error: Error) => {
      stream.off("data", onData);
      reject(error);
    };
    stream.on("data", onData);
    stream.once("error", onError);
    stream.write(data);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off("data", onData);
      stream.off("error", onError);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Compresses whole messages for one direction. */
export class MessageCompressor {
  private stream: DeflateRaw | undefined;

  constructor(private readonly params: DeflateDirectionParams) {}

  private open(): DeflateRaw {
    // zlib cannot make raw streams with an 8-bit window (it silently uses 9). Huffman-only
    // coding has no back-references at all, so it honours any window, 8 included.
    const eight = this.params.windowBits === 8;
    return createDeflateRaw({
      windowBits: eight ? 9 : this.params.windowBits,
      strategy: eight ? constants.Z_HUFFMAN_ONLY : constants.Z_DEFAULT_STRATEGY,
      memLevel: 8,
    });
  }

  /** The compressed payload of one message, without the sync-flush tail. */
  async compress(data: Buffer): Promise<Buffer> {
    this.stream ??= this.open();
    const out = await flushThrough(this.stream, data);
    if (this.params.noContextTakeover) this.reset();
    return out.subarray(out.length - 4).equals(SYNC_TAIL) ? out.subarray(0, out.length - 4) : out;
  }

  /** Frees the zlib stream. */
  reset(): void {
    this.stream?.close();
    this.stream = undefined;
  }
}

/** Decompresses whole messages for one direction. */
export class MessageDecompressor {
  private stream: InflateRaw | undefined;

  constructor(private readonly params: DeflateDirectionParams) {}

  /**
   * The original payload of one compressed message. The window is the negotiated one (at least
   * 9, zlib's smallest for raw streams): a peer using a larger window than agreed fails here.
   */
  async decompress(data: Buffer): Promise<Buffer> {
    this.stream ??= createInflateRaw({ windowBits: Math.max(9, this.params.windowBits) });
    try {
      return await flushThrough(this.stream, Buffer.concat([data, SYNC_TAIL]));
    } catch (error) {
      this.reset();
      throw error;
    } finally {
      // A peer may end a message with a final block (BFINAL), which ends the zlib stream: the
      // next message then starts a new one, as it would without context takeover.
      if (this.params.noContextTakeover || this.stream?.readableEnded) this.reset();
    }
  }

  /** Frees the zlib stream. */
  reset(): void {
    this.stream?.close();
    this.stream = undefined;
  }
}

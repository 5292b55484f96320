/**
 * Collects the bytes of one message arriving in pieces (fragments, socket chunks, inflated
 * output) so that the memory it holds is the bytes themselves, not one object per piece: past
 * the first few pieces, small pieces are copied into shared blocks; large pieces are kept as
 * they are (no copy).
 * @module
 */

/**
 * Block size, and the size from which a piece is kept as is. A kept piece is at least this
 * large, so the list of pieces has at most one entry per `BLOCK_SIZE` bytes received.
 */
export const BLOCK_SIZE = 16 * 1024;

/** Pieces this short are copied byte by byte: cheaper than making a view to copy from. */
const SHORT_COPY = 32;
/**
 * Pieces kept as views before small ones start being copied into blocks. A message in a few
 * pieces (the usual: one frame over two or three socket chunks) is then copied once, when it is
 * taken, as if there were no blocks; only a message in many pieces pays for the blocks.
 */
const FIRST_VIEWS = 8;

/**
 * The bytes of one message so far. A message cut into 100,000 one-byte fragments costs 100,000
 * bytes in 7 blocks here (and 8 views), instead of 100,000 views each keeping its socket chunk
 * alive.
 */
export class ByteAccumulator {
  /** Complete pieces in order: kept large pieces and sealed parts of blocks. */
  #pieces: Uint8Array[] = [];
  /** The block small pieces are copied into; `block[sealed..filled)` is not in `pieces` yet. */
  #block: Uint8Array | null = null;
  #sealed = 0;
  #filled = 0;
  /** Bytes appended since the last {@link take} or {@link clear}. */
  length = 0;

  /** Appends `bytes[from..to)`. Large ranges are kept as views of `bytes`, which must not change. */
  append(bytes: Uint8Array, from = 0, to: number = bytes.length): void {
    const count = to - from;
    if (count <= 0) return;
    this.length += count;
    if (count >= BLOCK_SIZE || (this.#block === null && this.#pieces.length < FIRST_VIEWS)) {
      this.#seal();
      this.#pieces.push(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to));
      return;
    }
    let block = this.#block;
    let filled = this.#filled;
    while (from < to) {
      if (block === null || filled === block.length) {
        this.#filled = filled;
        this.#seal();
        block = new Uint8Array(BLOCK_SIZE);
        this.#block = block;
        this.#sealed = 0;
        filled = 0;
      }
      const stop = Math.min(to, from + (block.length - filled));
      if (stop - from <= SHORT_COPY) {
        for (let i = from; i < stop; i++) block[filled++] = bytes[i];
      } else {
        block.set(bytes.subarray(from, stop), filled);
        filled += stop - from;
      }
      from = stop;
    }
    this.#filled = filled;
  }

  /**
   * Everything appended, as one buffer, and a fresh start. A single kept piece is returned as it
   * is; otherwise the bytes are copied once into a buffer of the exact size (so a small message
   * never keeps a whole block alive). Throws a RangeError when that buffer cannot be allocated.
   */
  take(): Uint8Array {
    this.#seal();
    const pieces = this.#pieces;
    const total = this.length;
    let out: Uint8Array;
    if (pieces.length === 1 && pieces[0].length >= BLOCK_SIZE) {
      out = pieces[0];
    } else {
      out = new Uint8Array(total);
      let offset = 0;
      for (let i = 0; i < pieces.length; i++) {
        out.set(pieces[i], offset);
        offset += pieces[i].length;
      }
    }
    this.clear();
    return out;
  }

  /** Forgets everything appended. */
  clear(): void {
    this.#pieces = [];
    this.#block = null;
    this.#sealed = 0;
    this.#filled = 0;
    this.length = 0;
  }

  /** Moves the filled, not yet listed part of the block into `pieces`. */
  #seal(): void {
    if (this.#block === null || this.#filled === this.#sealed) return;
    this.#pieces.push(this.#block.subarray(this.#sealed, this.#filled));
    this.#sealed = this.#filled;
  }
}

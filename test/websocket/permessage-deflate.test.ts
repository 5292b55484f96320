import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import type { Role } from "../../src/protocol/websocket/constants.js";
import type { DeflateParams } from "../../src/protocol/websocket/permessage-deflate-params.js";
import {
  DeflateError,
  PerMessageDeflate,
  type PerMessageDeflateOptions,
} from "../../src/websocket/permessage-deflate.js";
import { SyncZlib, syncZlibAvailable } from "../../src/websocket/zlib-sync.js";

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function makeParams(overrides: Partial<DeflateParams> = {}): DeflateParams {
  return {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    ...overrides,
  };
}

function compress(pmd: PerMessageDeflate, data: Uint8Array, fin = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pmd.compress(data, fin, (error, result) => {
      if (error !== null) reject(error);
      else resolve(result!);
    });
  });
}

function decompress(pmd: PerMessageDeflate, data: Uint8Array, fin = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pmd.decompress(data, fin, (error, result) => {
      if (error !== null) reject(error);
      else resolve(result!);
    });
  });
}

/** Inflates a message sent as several frames; the message is the concatenation of the results. */
async function decompressFrames(pmd: PerMessageDeflate, frames: Uint8Array[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < frames.length; i++) {
    const part = await decompress(pmd, frames[i], i === frames.length - 1);
    assert.ok(Buffer.isBuffer(part), "every successful frame yields a Buffer");
    parts.push(part);
  }
  return Buffer.concat(parts);
}

async function expectDeflateError(promise: Promise<unknown>, closeCode: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DeflateError, `expected a DeflateError, got ${String(error)}`);
    assert.equal(error.closeCode, closeCode);
    return true;
  });
}

/** Text-like data with repeats at many distances, so the window size matters. */
function sampleText(length: number, seed: number): Buffer {
  const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"];
  let state = seed;
  let text = "";
  while (text.length < length) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    text += `${words[state % words.length]}${state % 7 === 0 ? "\n" : " "}`;
  }
  return Buffer.from(text.slice(0, length));
}

/** A random block repeated: the natural matches are exactly `period` bytes back. */
function periodic(period: number, length: number): Buffer {
  const block = randomBytes(period);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = block[i % period];
  return out;
}

// ---- a strict RFC 1951 decoder that reports the largest back-reference distance -------------

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
  163, 195, 227, 258,
];
const LENGTH_EXTRA = [
  0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
  3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

interface Huffman {
  counts: number[];
  symbols: number[];
}

function huffman(lengths: number[]): Huffman {
  const counts = new Array<number>(16).fill(0);
  for (const length of lengths) counts[length]++;
  counts[0] = 0;
  const offsets = new Array<number>(16).fill(0);
  for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len] + counts[len];
  const symbols: number[] = [];
  lengths.forEach((length, symbol) => {
    if (length !== 0) symbols[offsets[length]++] = symbol;
  });
  return { counts, symbols };
}

/**
 * Decodes raw DEFLATE data made of non-final blocks ending on a byte boundary (what a
 * permessage-deflate stream with the tails appended is). Returns the output and the largest
 * distance any match used; throws on malformed data or a distance before the output start.
 */
function inspectDeflate(data: Uint8Array): { output: Buffer; maxDistance: number } {
  let pos = 0;
  let bitBuf = 0;
  let bitCount = 0;
  const bits = (n: number): number => {
    while (bitCount < n) {
      if (pos >= data.length) throw new Error("out of input");
      bitBuf |= data[pos++] << bitCount;
      bitCount += 8;
    }
    const value = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCount -= n;
    return value;
  };
  const decode = (h: Huffman): number => {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= 15; len++) {
      code |= bits(1);
      const count = h.counts[len];
      if (code - count < first) return h.symbols[index + (code - first)];
      index += count;
      first += count;
      first <<= 1;
      code <<= 1;
    }
    throw new Error("bad code");
  };
  const out: number[] = [];
  let maxDistance = 0;
  const fixedLit = huffman([
    ...new Array(144).fill(8),
    ...new Array(112).fill(9),
    ...new Array(24).fill(7),
    ...new Array(8).fill(8),
  ]);
  const fixedDist = huffman(new Array(30).fill(5));
  while (pos < data.length || bitCount >= 8) {
    const final = bits(1);
    if (final) throw new Error("unexpected BFINAL block");
    const type = bits(2);
    if (type === 0) {
      bitBuf = 0;
      bitCount = 0;
      const len = data[pos] | (data[pos + 1] << 8);
      const nlen = data[pos + 2] | (data[pos + 3] << 8);
      if (pos + 4 > data.length || (len ^ 0xffff) !== nlen) throw new Error("bad stored block");
      pos += 4;
      for (let i = 0; i < len; i++) out.push(data[pos++]);
      continue;
    }
    let lit = fixedLit;
    let dist = fixedDist;
    if (type === 2) {
      const hlit = bits(5) + 257;
      const hdist = bits(5) + 1;
      const hclen = bits(4) + 4;
      const codeLengths = new Array<number>(19).fill(0);
      for (let i = 0; i < hclen; i++) codeLengths[CODE_LENGTH_ORDER[i]] = bits(3);
      const lencode = huffman(codeLengths);
      const lengths: number[] = [];
      while (lengths.length < hlit + hdist) {
        const symbol = decode(lencode);
        if (symbol < 16) lengths.push(symbol);
        else if (symbol === 16) {
          const previous = lengths[lengths.length - 1];
          for (let n = 3 + bits(2); n > 0; n--) lengths.push(previous);
        } else if (symbol === 17) for (let n = 3 + bits(3); n > 0; n--) lengths.push(0);
        else for (let n = 11 + bits(7); n > 0; n--) lengths.push(0);
      }
      lit = huffman(lengths.slice(0, hlit));
      dist = huffman(lengths.slice(hlit));
    } else if (type !== 1) {
      throw new Error("bad block type");
    }
    for (;;) {
      const symbol = decode(lit);
      if (symbol < 256) {
        out.push(symbol);
        continue;
      }
      if (symbol === 256) break;
      const li = symbol - 257;
      const length = LENGTH_BASE[li] + bits(LENGTH_EXTRA[li]);
      const di = decode(dist);
      const distance = DIST_BASE[di] + bits(DIST_EXTRA[di]);
      if (distance > out.length) throw new Error("distance before the output start");
      maxDistance = Math.max(maxDistance, distance);
      for (let i = 0; i < length; i++) out.push(out[out.length - distance]);
    }
    // Blocks end anywhere; only a stored block (the sync-flush marker) re-aligns to a byte.
    if (pos >= data.length && bitCount < 8) break;
  }
  return { output: Buffer.from(out), maxDistance };
}

// ---- tests ----------------------------------------------------------------------------------

describe("PerMessageDeflate", () => {
  it("exposes threshold (default 1024) and rejects bad parameters", () => {
    assert.equal(new PerMessageDeflate(makeParams(), "server").threshold, 1024);
    assert.equal(new PerMessageDeflate(makeParams(), "client", { threshold: 0 }).threshold, 0);
    const bad: [DeflateParams, PerMessageDeflateOptions, number][] = [
      [makeParams({ serverMaxWindowBits: 7 }), {}, 0],
      [makeParams({ clientMaxWindowBits: 16 }), {}, 0],
      [makeParams(), { threshold: -1 }, 0],
      [makeParams(), { concurrencyLimit: 0 }, 0],
      [makeParams(), { zlibDeflateOptions: { level: 10 } }, 0],
      [makeParams(), { zlibDeflateOptions: { memLevel: 0 } }, 0],
      [makeParams(), { zlibInflateOptions: { chunkSize: 16 } }, 0],
      [makeParams(), {}, -1],
    ];
    for (const [params, options, maxPayload] of bad) {
      assert.throws(() => new PerMessageDeflate(params, "server", options, maxPayload), RangeError);
    }
  });

  it("round-trips every window size and context takeover combination, both directions", async () => {
    // Thread pool only, the default (small frames on the event loop), and everything on the loop:
    // one stream may go through both paths, message after message.
    for (const syncLimit of [0, undefined, 1 << 20]) await roundTrips({ syncLimit });
  });

  async function roundTrips(options: PerMessageDeflateOptions): Promise<void> {
    const messages = [
      sampleText(200, 1),
      sampleText(200, 1), // the same again: one back-reference with context takeover, any window
      Buffer.alloc(0),
      randomBytes(2000),
      periodic(300, 5000),
      sampleText(70_000, 2), // several zlib output chunks
    ];
    for (let bits = 8; bits <= 15; bits++) {
      for (const serverNoContextTakeover of [false, true]) {
        for (const clientNoContextTakeover of [false, true]) {
          const params = makeParams({
            serverNoContextTakeover,
            clientNoContextTakeover,
            serverMaxWindowBits: bits,
            clientMaxWindowBits: bits,
          });
          const server = new PerMessageDeflate(params, "server", options);
          const client = new PerMessageDeflate(params, "client", options);
          for (const [from, to, resets] of [
            [server, client, serverNoContextTakeover],
            [client, server, clientNoContextTakeover],
          ] as const) {
            const sizes: number[] = [];
            for (const message of messages) {
              const payload = await compress(from, message);
              sizes.push(payload.length);
              const inflated = await decompress(to, payload);
              assert.ok(inflated.equals(message), `bits ${bits}, resets ${resets}`);
            }
            // Message 2 repeats message 1: with context takeover it is a back-reference.
            if (resets) assert.equal(sizes[1], sizes[0], `bits ${bits}: context was reset`);
            else assert.ok(sizes[1] < sizes[0] / 4, `bits ${bits}: context kept (${sizes})`);
          }
          server.close();
          client.close();
        }
      }
    }
  }

  it("runs small frames now on the event loop, with the thread pool's bytes", async () => {
    assert.ok(syncZlibAvailable(), "synchronous zlib works in this Node");
    const sizes = [0, 10, 1000, 4096];
    const now = new PerMessageDeflate(makeParams(), "server");
    const pooled = new PerMessageDeflate(makeParams(), "server", { syncLimit: 0 });
    const peer = new PerMessageDeflate(makeParams(), "client");
    for (const size of sizes) {
      const message = sampleText(size, size);
      const payload = now.compressNow(message, true);
      assert.ok(payload !== null, `${size} bytes compressed now`);
      assert.ok(payload.equals(await compress(pooled, message)), `${size} bytes: same output`);
      const inflated = peer.decompressNow(payload, true);
      assert.ok(inflated?.equals(message), `${size} bytes inflated now`);
    }
    assert.equal(pooled.compressNow(sampleText(10, 1), true), null, "syncLimit 0: never now");
    assert.equal(now.compressNow(sampleText(4097, 1), true), null, "above syncLimit");
    // A job waiting keeps its place: nothing overtakes it.
    const waiting = compress(now, sampleText(10_000, 2));
    assert.equal(now.compressNow(sampleText(10, 1), true), null, "behind a queued job");
    assert.ok(peer.decompressNow(await waiting, true)?.equals(sampleText(10_000, 2)));
    assert.ok(now.compressNow(sampleText(10, 1), true) !== null, "free again");
    for (const pmd of [now, pooled, peer]) pmd.close();
    assert.equal(now.compressNow(sampleText(10, 1), true), null, "closed");
  });

  it("stops a small zip bomb inflated now at maxPayload; decompress() then reports 1009", async () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(3 * 1024 * 1024), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      level: 9,
    });
    const payload = bomb.subarray(0, -4);
    assert.ok(payload.length <= 4096, `bomb is ${payload.length} bytes: inflated now`);
    const maxPayload = 256 * 1024;
    const chunkSize = 4096;
    const write = SyncZlib.prototype.write;
    let inflatedBytes = 0;
    SyncZlib.prototype.write = function (this: SyncZlib, ...args) {
      const output = write.apply(this, args);
      inflatedBytes += output?.length ?? 0;
      return output;
    };
    try {
      const receiver = new PerMessageDeflate(
        makeParams(),
        "server",
        { zlibInflateOptions: { chunkSize } },
        maxPayload,
      );
      assert.equal(receiver.decompressNow(payload, true), null);
      assert.ok(inflatedBytes > maxPayload, "the cap was reached by inflating");
      assert.ok(inflatedBytes <= maxPayload + chunkSize, `inflated ${inflatedBytes} of 3 MiB`);
      await expectDeflateError(decompress(receiver, payload), 1009);
      receiver.close();
    } finally {
      SyncZlib.prototype.write = write;
    }
  });

  it("fails corrupt data inflated now: null, then 1007 from decompress()", async () => {
    const receiver = new PerMessageDeflate(makeParams(), "server");
    assert.equal(receiver.decompressNow(Buffer.from([0xff, 0xff, 0xff, 0xff]), true), null);
    await expectDeflateError(decompress(receiver, Buffer.from([0x00])), 1007);
    receiver.close();
  });

  it("shares one deflater and one inflater between instances of the same options without context takeover", async () => {
    const write = SyncZlib.prototype.write;
    const streams = new Set<unknown>();
    const inflaters = new Set<unknown>();
    SyncZlib.prototype.write = function (this: SyncZlib, ...args) {
      if (this.stream instanceof zlib.DeflateRaw) streams.add(this.stream);
      else inflaters.add(this.stream);
      return write.apply(this, args);
    };
    try {
      const options: PerMessageDeflateOptions = {};
      const peerOptions: PerMessageDeflateOptions = {};
      const params = makeParams({ serverNoContextTakeover: true });
      const senders = [0, 1, 2].map(() => new PerMessageDeflate(params, "server", options));
      const peers = [0, 1, 2].map(() => new PerMessageDeflate(params, "client", peerOptions));
      const message = sampleText(3000, 4);
      const alone = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      for (let round = 0; round < 3; round++) {
        for (const [i, sender] of senders.entries()) {
          const payload = await compress(sender, message);
          // Every message as compressed on its own, whoever used the deflater before.
          assert.ok(Buffer.concat([payload, TAIL]).equals(alone));
          assert.ok((await decompress(peers[i], payload)).equals(message));
        }
      }
      assert.equal(streams.size, 1, "one deflater for the three");
      assert.equal(inflaters.size, 1, "one inflater for the three");
      // A corrupt message fails its connection alone; the others go on with a new inflater.
      await expectDeflateError(decompress(peers[2], Buffer.from([0xff, 0xff, 0xff])), 1007);
      assert.ok((await decompress(peers[1], await compress(senders[1], message))).equals(message));
      assert.equal(inflaters.size, 2);
      // A message in several frames keeps its own deflater: frames of others may come between.
      const first = await compress(senders[0], message.subarray(0, 1000), false);
      const other = await compress(senders[1], message);
      const last = await compress(senders[0], message.subarray(1000), true);
      assert.ok(Buffer.concat([other, TAIL]).equals(alone));
      assert.ok((await decompressFrames(peers[0], [first, last])).equals(message));
      assert.equal(inflaters.size, 3, "the fragmented message used an inflater of its own");
      assert.equal(streams.size, 2, "the fragmented message used a deflater of its own");
      // Another options object, another deflater; context takeover, one per connection.
      const other1 = new PerMessageDeflate(params, "server", {});
      const kept = new PerMessageDeflate(makeParams(), "server", options);
      await compress(other1, message);
      await compress(kept, message);
      assert.equal(streams.size, 4);
      // A maxPayload failure leaves the shared inflater clean for the others.
      const small = new PerMessageDeflate(params, "client", peerOptions, 100);
      await expectDeflateError(decompress(small, await compress(senders[0], message)), 1009);
      assert.ok((await decompress(peers[1], await compress(senders[1], message))).equals(message));
      assert.equal(inflaters.size, 3);
      for (const pmd of [...senders, ...peers, other1, kept, small]) pmd.close();
    } finally {
      SyncZlib.prototype.write = write;
    }
  });

  it("sends for a peer that asked for an 8-bit window: no match farther than 256 bytes", async () => {
    // zlib cannot deflate with 256 bytes of window; the sender uses 9 bits, whose matches reach
    // at most 2^9 - 262 = 250 bytes back. A strict decoder checks every distance.
    const params = makeParams({ serverMaxWindowBits: 8, clientMaxWindowBits: 8 });
    const wide = makeParams();
    for (const role of ["server", "client"] as Role[]) {
      const narrow = new PerMessageDeflate(params, role, { zlibDeflateOptions: { level: 9 } });
      const reference = new PerMessageDeflate(wide, role, { zlibDeflateOptions: { level: 9 } });
      const messages = [periodic(300, 20_000), sampleText(50_000, 3), periodic(257, 4000)];
      let narrowStream = Buffer.alloc(0);
      let wideStream = Buffer.alloc(0);
      for (const message of messages) {
        narrowStream = Buffer.concat([narrowStream, await compress(narrow, message), TAIL]);
        wideStream = Buffer.concat([wideStream, await compress(reference, message), TAIL]);
      }
      const expected = Buffer.concat(messages);
      const checked = inspectDeflate(narrowStream);
      assert.ok(checked.output.equals(expected));
      assert.ok(checked.maxDistance <= 256, `max distance ${checked.maxDistance}`);
      assert.ok(checked.maxDistance > 0, "matches were used");
      // The same data with a 15-bit window does use longer distances: the check has teeth.
      const unchecked = inspectDeflate(wideStream);
      assert.ok(unchecked.output.equals(expected));
      assert.ok(unchecked.maxDistance > 256, `reference max distance ${unchecked.maxDistance}`);
      narrow.close();
      reference.close();
    }
  });

  it("inflates with an 8-bit window and rejects a peer that reaches farther back", async () => {
    const params = makeParams({ serverMaxWindowBits: 8 });
    const client = new PerMessageDeflate(params, "client"); // receives with 8 bits
    const server = new PerMessageDeflate(params, "server");
    const message = periodic(200, 10_000);
    assert.ok((await decompress(client, await compress(server, message))).equals(message));
    client.close();
    server.close();

    // A peer ignoring the 8-bit agreement: a 40 KB message with 1000-byte-period repeats.
    const lying = zlib.deflateRawSync(periodic(1000, 40_000), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    const strict = new PerMessageDeflate(params, "client", {
      zlibInflateOptions: { chunkSize: 64 },
    });
    await expectDeflateError(decompress(strict, lying.subarray(0, lying.length - 4)), 1007);
    strict.close();
  });

  it("compresses and inflates multi-frame messages, frame by frame", async () => {
    const sender = new PerMessageDeflate(makeParams(), "client");
    const receiver = new PerMessageDeflate(makeParams(), "server");
    for (let round = 0; round < 3; round++) {
      const pieces = [
        sampleText(5000, 10 + round),
        Buffer.alloc(0),
        randomBytes(300),
        sampleText(40_000, 20),
      ];
      const frames: Buffer[] = [];
      for (let i = 0; i < pieces.length; i++) {
        frames.push(await compress(sender, pieces[i], i === pieces.length - 1));
      }
      // Non-final frames keep their sync-flush marker (an empty piece right after a flush has
      // nothing to flush); the final one has it stripped.
      for (const frame of frames.slice(0, -1)) {
        assert.ok(frame.length === 0 || frame.subarray(-4).equals(TAIL));
      }
      assert.equal(frames[1].length, 0);
      assert.ok((await decompressFrames(receiver, frames)).equals(Buffer.concat(pieces)));
    }
    // The receiver does not care how the compressed payload was cut into frames.
    const message = sampleText(20_000, 5);
    const payload = await compress(sender, message);
    const frames: Buffer[] = [];
    for (let i = 0; i < payload.length; i += 7) frames.push(payload.subarray(i, i + 7));
    frames.push(Buffer.alloc(0));
    assert.ok((await decompressFrames(receiver, frames)).equals(message));
    sender.close();
    receiver.close();
  });

  it("sends an empty message as 0x00 and receives empty payloads", async () => {
    const sender = new PerMessageDeflate(makeParams(), "server");
    const receiver = new PerMessageDeflate(makeParams(), "client");
    // Fresh context, then right after another message's flush, then twice in a row.
    for (const message of [
      Buffer.alloc(0),
      Buffer.from("x".repeat(2000)),
      Buffer.alloc(0),
      Buffer.alloc(0),
    ]) {
      const payload = await compress(sender, message);
      if (message.length === 0) assert.deepEqual([...payload], [0x00]);
      assert.ok((await decompress(receiver, payload)).equals(message));
    }
    // A compressed message with no payload bytes at all inflates to nothing and leaves the
    // stream usable for the next message.
    assert.equal((await decompress(receiver, Buffer.alloc(0))).length, 0);
    const next = Buffer.from("after an empty payload ".repeat(100));
    assert.ok((await decompress(receiver, await compress(sender, next))).equals(next));
    sender.close();
    receiver.close();
  });

  it("inflates what Node's own zlib produces (a peer's view), including BFINAL blocks", async () => {
    const receiver = new PerMessageDeflate(makeParams(), "server");
    // A peer that sync-flushes and strips the tail, as RFC 7692 7.2.1 says.
    const one = sampleText(8000, 7);
    const synced = zlib.deflateRawSync(one, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.ok((await decompress(receiver, synced.subarray(0, -4))).equals(one));
    // A peer that ends every message with a BFINAL block (plain deflateRawSync), several times:
    // each is a complete DEFLATE stream and the next message starts a new one.
    for (let i = 0; i < 3; i++) {
      const message = sampleText(3000 + i, 30 + i);
      assert.ok((await decompress(receiver, zlib.deflateRawSync(message))).equals(message));
    }
    // Back to sync-flushed data after BFINAL messages.
    const two = sampleText(4000, 8);
    const syncedTwo = zlib.deflateRawSync(two, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.ok((await decompress(receiver, syncedTwo.subarray(0, -4))).equals(two));
    // A BFINAL stream split over frames.
    const three = sampleText(9000, 9);
    const final = zlib.deflateRawSync(three);
    const half = final.length >> 1;
    const inflated = await decompressFrames(receiver, [
      final.subarray(0, half),
      final.subarray(half),
    ]);
    assert.ok(inflated.equals(three));
    receiver.close();
  });

  it("decodes the RFC 7692 section 7.2.3 examples", async () => {
    const hello = "Hello";
    const cases: { frames: number[][]; messages: string[] }[] = [
      { frames: [[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]], messages: [hello] }, // 7.2.3.1
      {
        frames: [
          [0xf2, 0x48, 0xcd],
          [0xc9, 0xc9, 0x07, 0x00],
        ],
        messages: [hello],
      }, // fragmented
      {
        // 7.2.3.2: the second message refers back into the first.
        frames: [
          [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
          [0xf2, 0x00, 0x11, 0x00, 0x00],
        ],
        messages: [hello, hello],
      },
      {
        frames: [[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]],
        messages: [hello],
      }, // 7.2.3.3
      {
        // 7.2.3.5: more than one DEFLATE block.
        frames: [[0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00]],
        messages: [hello],
      },
      { frames: [[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]], messages: [hello] }, // 7.2.3.4 BFINAL
    ];
    for (const { frames, messages } of cases) {
      const receiver = new PerMessageDeflate(makeParams(), "client");
      if (messages.length === 1) {
        // Plain Uint8Arrays are accepted, not only Buffers.
        const inflated = await decompressFrames(
          receiver,
          frames.map((f) => Uint8Array.from(f)),
        );
        assert.equal(inflated.toString(), messages[0]);
      } else {
        for (let i = 0; i < frames.length; i++) {
          assert.equal(
            (await decompress(receiver, Buffer.from(frames[i]))).toString(),
            messages[i],
          );
        }
      }
      // The stream stays usable after each example.
      assert.equal(
        (
          await decompress(receiver, Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]))
        ).toString(),
        hello,
      );
      receiver.close();
    }
  });

  it("is inflatable by Node's zlib with the tail appended (our output, a peer's view)", async () => {
    for (const noContextTakeover of [false, true]) {
      const sender = new PerMessageDeflate(
        makeParams({ clientNoContextTakeover: noContextTakeover }),
        "client",
      );
      const peer = zlib.createInflateRaw();
      const out: Buffer[] = [];
      peer.on("data", (chunk: Buffer) => out.push(chunk));
      const messages = [sampleText(2000, 1), sampleText(2000, 1), randomBytes(500)];
      for (const message of messages) {
        const payload = await compress(sender, message);
        await new Promise<void>((resolve) =>
          peer.write(Buffer.concat([payload, TAIL]), () => resolve()),
        );
      }
      assert.ok(Buffer.concat(out).equals(Buffer.concat(messages)));
      peer.close();
      sender.close();
    }
  });

  it("stops inflating a zip bomb at maxPayload with 1009, without buffering its output", async () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(10 * 1024 * 1024), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      level: 9,
    });
    const payload = bomb.subarray(0, -4);
    assert.ok(payload.length < 16 * 1024, `bomb is ${payload.length} bytes`);
    const maxPayload = 1024 * 1024;
    const chunkSize = 16 * 1024;

    // Count every byte the inflater hands to its readable side while the bomb is processed.
    const proto = zlib.InflateRaw.prototype as unknown as { push: (chunk: unknown) => boolean };
    const originalPush = proto.push;
    let inflatedBytes = 0;
    proto.push = function (this: unknown, chunk: unknown) {
      if (Buffer.isBuffer(chunk)) inflatedBytes += chunk.length;
      return originalPush.call(this, chunk);
    };
    try {
      const receiver = new PerMessageDeflate(
        makeParams(),
        "server",
        { zlibInflateOptions: { chunkSize } },
        maxPayload,
      );
      await expectDeflateError(decompress(receiver, payload), 1009);
      // Give zlib a few turns: it must not go on inflating the rest in the background.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.ok(inflatedBytes > maxPayload, "the cap was reached by inflating");
      assert.ok(
        inflatedBytes <= maxPayload + 2 * chunkSize,
        `inflated ${inflatedBytes} bytes of 10 MiB`,
      );
      // The connection is failing: later frames get the same verdict.
      await expectDeflateError(decompress(receiver, Buffer.from([0xf2, 0x48, 0x05, 0x00])), 1009);
      receiver.close();
    } finally {
      proto.push = originalPush;
    }
  });

  it("applies maxPayload to the whole message across frames, and allows exactly maxPayload", async () => {
    const sender = new PerMessageDeflate(makeParams(), "client", {}, 0);
    const exact = new PerMessageDeflate(makeParams(), "server", {}, 3000);
    const payload = await compress(sender, Buffer.alloc(3000, 0x61));
    assert.equal((await decompress(exact, payload)).length, 3000);
    exact.close();

    const receiver = new PerMessageDeflate(makeParams(), "server", {}, 3000);
    const first = await compress(sender, Buffer.alloc(2000, 0x62), false);
    const second = await compress(sender, Buffer.alloc(2000, 0x62), true);
    assert.equal((await decompress(receiver, first, false)).length, 2000);
    await expectDeflateError(decompress(receiver, second, true), 1009);
    sender.close();
    receiver.close();
  });

  it("fails corrupt data with 1007", async () => {
    const corrupt = [
      [0x07, 0x00], // BTYPE 11, reserved
      [0x00, 0x05, 0x00, 0x00, 0x00, 0x48], // stored block with LEN != ~NLEN
      [0xf2, 0x00, 0x11, 0x00, 0x00], // a back-reference with no output before it
    ];
    for (const bytes of corrupt) {
      const receiver = new PerMessageDeflate(makeParams(), "client");
      await expectDeflateError(decompress(receiver, Buffer.from(bytes)), 1007);
      await expectDeflateError(decompress(receiver, Buffer.from([0x00])), 1007);
      receiver.close();
    }
    // Many tiny BFINAL streams in one frame: refused instead of a new zlib stream for each.
    const ends = Buffer.from([0x03, 0x00, 0x03, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00]);
    const receiver = new PerMessageDeflate(makeParams(), "client");
    await expectDeflateError(decompress(receiver, ends), 1007);
    receiver.close();
  });

  it("completes jobs in call order, compress and decompress interleaved", async () => {
    const a = new PerMessageDeflate(makeParams(), "server", { concurrencyLimit: 2 });
    const b = new PerMessageDeflate(makeParams(), "client", { concurrencyLimit: 2 });
    const messages = Array.from({ length: 30 }, (_, i) => sampleText(500 + i * 997, i));
    const payloads = await Promise.all(messages.map((m) => compress(b, m)));
    const order: string[] = [];
    const done: Promise<void>[] = [];
    for (let i = 0; i < messages.length; i++) {
      done.push(
        new Promise<void>((resolve, reject) => {
          a.compress(messages[i], true, (error) => {
            if (error !== null) reject(error);
            order.push(`c${i}`);
            resolve();
          });
        }),
        new Promise<void>((resolve, reject) => {
          a.decompress(payloads[i], true, (error, result) => {
            if (error !== null || !result!.equals(messages[i]))
              reject(error ?? new Error("mismatch"));
            order.push(`d${i}`);
            resolve();
          });
        }),
      );
    }
    await Promise.all(done);
    assert.deepEqual(
      order,
      messages.flatMap((_, i) => [`c${i}`, `d${i}`]),
    );
    a.close();
    b.close();
  });

  it("bounds zlib jobs in flight across instances with the shared limiter", async () => {
    const proto = zlib.DeflateRaw.prototype as unknown as {
      write: (chunk: unknown, callback: () => void) => boolean;
    };
    const originalWrite = proto.write;
    let inFlight = 0;
    let maxInFlight = 0;
    proto.write = function (this: unknown, chunk: unknown, callback: () => void) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return originalWrite.call(this, chunk, () => {
        inFlight--;
        callback();
      });
    };
    try {
      // A limit no other test uses, so this limiter is ours alone.
      const instances = Array.from(
        { length: 12 },
        () => new PerMessageDeflate(makeParams(), "server", { concurrencyLimit: 3 }),
      );
      const message = sampleText(100_000, 4);
      await Promise.all(
        instances.flatMap((pmd) => [compress(pmd, message), compress(pmd, message)]),
      );
      assert.equal(maxInFlight, 3);
      for (const pmd of instances) pmd.close();
    } finally {
      proto.write = originalWrite;
    }
  });

  it("close() fails the running and queued jobs in order, and every later call", async () => {
    const pmd = new PerMessageDeflate(makeParams(), "server");
    const peer = new PerMessageDeflate(makeParams(), "client");
    const payload = await compress(peer, sampleText(50_000, 1));
    const results: string[] = [];
    const settled: Promise<void>[] = [];
    const record = (name: string) =>
      new Promise<void>((resolve) => {
        const callback = (error: Error | null, result?: Buffer) => {
          assert.ok(error instanceof DeflateError, `${name} got ${String(error)}`);
          assert.equal(result, undefined);
          results.push(name);
          resolve();
        };
        if (name.startsWith("c")) pmd.compress(sampleText(50_000, 2), true, callback);
        else pmd.decompress(payload, true, callback);
      });
    for (const name of ["c0", "d1", "c2", "d3", "c4"]) settled.push(record(name));
    // Let the first job get into zlib, then close with it in flight and the rest queued.
    await new Promise((resolve) => setImmediate(resolve));
    pmd.close();
    pmd.close(); // idempotent
    settled.push(record("c5"), record("d6"));
    await Promise.all(settled);
    assert.deepEqual(results, ["c0", "d1", "c2", "d3", "c4", "c5", "d6"]);
    // Nothing from the closed zlib streams surfaces afterwards.
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(results.length, 7);
    peer.close();
  });

  it("a closed instance releases its limiter slots", async () => {
    const limit = 1; // one slot: a leak would stall the next instance forever
    for (let i = 0; i < 5; i++) {
      const pmd = new PerMessageDeflate(makeParams(), "server", { concurrencyLimit: limit });
      const pending = compress(pmd, sampleText(200_000, i));
      await new Promise((resolve) => setImmediate(resolve));
      pmd.close();
      await assert.rejects(pending, DeflateError);
    }
    const last = new PerMessageDeflate(makeParams(), "server", { concurrencyLimit: limit });
    const peer = new PerMessageDeflate(makeParams(), "client");
    const message = sampleText(10_000, 9);
    assert.ok((await decompress(peer, await compress(last, message))).equals(message));
    last.close();
    peer.close();
  });
});

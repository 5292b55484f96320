/**
 * Sections 9 (limits and performance, at reduced sizes so the suite stays short on a 2-core
 * machine) and 10 (auto-fragmentation) of the Autobahn testsuite. Timings are not asserted: a
 * case passes when every echo comes back intact, in order, with the right type.
 */
import { Op } from "../../helpers/frames.js";
import type { ConformanceCase } from "../case.js";
import type { FuzzSession } from "../fuzz-session.js";
import { binary, NORMAL_CLOSE, text } from "./dsl.js";

const cases: ConformanceCase[] = [];
const KiB = 1024;
const MiB = 1024 * KiB;

/** `size` bytes of a repeated pattern (text: Autobahn's "BAsd7&jh23"; binary: 0xfe). */
function payloadOf(size: number, isBinary: boolean): Buffer {
  return isBinary ? Buffer.alloc(size, 0xfe) : Buffer.alloc(size, "BAsd7&jh23");
}

const event = (data: Buffer, isBinary: boolean) => (isBinary ? binary(data) : text(data));

// 9.1 / 9.2: one message of growing size (Autobahn: 64 KiB to 16 MiB; here up to 2 MiB).
const sizes = [64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, 1 * MiB, 2 * MiB];
for (const [group, isBinary] of [
  ["9.1", false],
  ["9.2", true],
] as const) {
  sizes.forEach((size, i) => {
    const payload = payloadOf(size, isBinary);
    cases.push({
      id: `${group}.${i + 1}`,
      description: `${isBinary ? "Binary" : "Text"} message of ${size / KiB} KiB`,
      expected: { ok: [event(payload, isBinary)] },
      expectedClose: NORMAL_CLOSE,
      timeoutMs: 30000,
      run: (s) => s.sendFrame({ opcode: isBinary ? Op.Binary : Op.Text, payload }),
    });
  });
}

// 9.3 / 9.4: a fragmented message of fixed size, fragments of growing size
// (Autobahn: 4 MiB in fragments of 64 B to 4 MiB; here 1 MiB, except 9.3.1 and 9.4.1 at
// Autobahn's full size: 4 MiB in 65,536 fragments of 64 bytes, the most fragments any Autobahn
// case sends, which the default fragment limit must accept).
const fragmentSizes = [64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB];
for (const [group, isBinary] of [
  ["9.3", false],
  ["9.4", true],
] as const) {
  fragmentSizes.forEach((fragmentSize, i) => {
    const payload = payloadOf(i === 0 ? 4 * MiB : 1 * MiB, isBinary);
    cases.push({
      id: `${group}.${i + 1}`,
      description: `${isBinary ? "Binary" : "Text"} message of ${payload.length / MiB} MiB in fragments of ${fragmentSize} bytes`,
      expected: { ok: [event(payload, isBinary)] },
      expectedClose: NORMAL_CLOSE,
      timeoutMs: 30000,
      run: (s) => s.sendMessage(payload, isBinary, fragmentSize),
    });
  });
}

// 9.5 / 9.6: one frame written in chops of growing size
// (Autobahn: 1 MiB in chops of 64 B to 2 KiB; here 256 KiB).
const chopSizes = [64, 128, 256, 512, 1024, 2048];
for (const [group, isBinary] of [
  ["9.5", false],
  ["9.6", true],
] as const) {
  chopSizes.forEach((chop, i) => {
    const payload = payloadOf(256 * KiB, isBinary);
    cases.push({
      id: `${group}.${i + 1}`,
      description: `${isBinary ? "Binary" : "Text"} message of 256 KiB written in ${chop}-byte chops`,
      expected: { ok: [event(payload, isBinary)] },
      expectedClose: NORMAL_CLOSE,
      timeoutMs: 30000,
      run: (s) => s.sendFrame({ opcode: isBinary ? Op.Binary : Op.Text, payload }, { chop }),
    });
  });
}

/** Sends `count` messages one after another, each after the previous echo came back. */
async function roundTrips(s: FuzzSession, count: number, payload: Buffer, isBinary: boolean) {
  for (let i = 0; i < count; i++) {
    const before = s.events.length;
    await s.sendMessage(payload, isBinary);
    if (!(await s.waitFor(() => s.events.length > before, 10000))) return;
  }
}

// 9.7 / 9.8: round trips of messages of growing size (Autobahn: 1000 each; here 100).
const roundTripSizes = [0, 16, 64, 256, 1024, 4096];
for (const [group, isBinary] of [
  ["9.7", false],
  ["9.8", true],
] as const) {
  roundTripSizes.forEach((size, i) => {
    const payload = payloadOf(size, isBinary);
    cases.push({
      id: `${group}.${i + 1}`,
      description: `100 round trips of ${isBinary ? "binary" : "text"} messages of ${size} bytes`,
      expected: { ok: Array.from({ length: 100 }, () => event(payload, isBinary)) },
      expectedClose: NORMAL_CLOSE,
      timeoutMs: 30000,
      run: (s) => roundTrips(s, 100, payload, isBinary),
    });
  });
}

// 10.1.1: a 64 KiB text message auto-fragmented into 1300-byte frames.
const star = Buffer.alloc(65536, "*");
cases.push({
  id: "10.1.1",
  description: "Text message of 65536 bytes in frames of 1300 bytes",
  expected: { ok: [text(star)] },
  expectedClose: NORMAL_CLOSE,
  run: (s) => s.sendMessage(star, false, 1300),
});

// 9.3.1 / 9.4.1 with permessage-deflate (Autobahn 12.x/13.x send compressed messages in
// fragments, up to 512 of them; these push that to the 9.3.1 count): 4 MiB of poorly
// compressible bytes, compressed, then cut into 64-byte frames, about 65,600 of them.
const incompressible = (() => {
  // xorshift32: deterministic bytes that deflate cannot shrink.
  const out = Buffer.alloc(4 * MiB);
  let x = 0x9e3779b9;
  for (let i = 0; i < out.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  return out;
})();
for (const [id, isBinary] of [
  ["9.3.1.deflate", false],
  ["9.4.1.deflate", true],
] as const) {
  // Text must be UTF-8: the same bytes masked to 7-bit ASCII (still poorly compressible).
  const payload = isBinary
    ? incompressible
    : Buffer.from(incompressible.map((b) => 0x20 + (b % 0x5f)));
  cases.push({
    id,
    description: `${isBinary ? "Binary" : "Text"} message of 4 MiB, compressed, in 64-byte fragments`,
    expected: { ok: [event(payload, isBinary)] },
    expectedClose: NORMAL_CLOSE,
    deflate: {
      clientOffer: "permessage-deflate; client_max_window_bits",
      subjectClientOptions: {},
      serverResponse: "accept",
    },
    timeoutMs: 60000,
    // Some 65,000 inflate jobs take a few seconds on a loaded machine: wait for the echo before
    // the runner's close deadline starts.
    run: async (s) => {
      await s.sendMessage(payload, isBinary, 64);
      await s.waitFor(() => s.events.length > 0, 55000);
    },
  });
}

/** Sections 9 and 10. */
export const limitCases = cases;

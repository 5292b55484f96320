/**
 * Section 6 of the Autobahn testsuite: UTF-8 handling, including fail-fast (6.4) and the
 * sequences of Markus Kuhn's UTF-8 decoder stress test (6.5 to 6.23).
 */
import { isUtf8 } from "node:buffer";
import { Op } from "../../helpers/frames.js";
import type { ConformanceCase } from "../case.js";
import { failsWith, NORMAL_CLOSE, text, timeout } from "./dsl.js";

const cases: ConformanceCase[] = [];
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const KOSME = hex("ceba e1bdb9 cf83 cebc ceb5"); // κόσμε

// 6.1: empty payloads and empty fragments.
cases.push(
  {
    id: "6.1.1",
    description: "Empty text message",
    expected: { ok: [text("")] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Text }),
  },
  {
    id: "6.1.2",
    description: "Text message in 3 empty fragments",
    expected: { ok: [text("")] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, fin: false });
      await s.sendFrame({ opcode: Op.Continuation, fin: false });
      await s.sendFrame({ opcode: Op.Continuation });
    },
  },
  {
    id: "6.1.3",
    description: "Text message in 3 fragments: empty, non-empty, empty",
    expected: { ok: [text("middle frame payload")] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, fin: false });
      await s.sendFrame({ opcode: Op.Continuation, payload: "middle frame payload", fin: false });
      await s.sendFrame({ opcode: Op.Continuation });
    },
  },
);

/** Sends `payload` as a text message of 1-byte fragments. */
async function sendOctetFragments(s: Parameters<ConformanceCase["run"]>[0], payload: Buffer) {
  for (let i = 0; i < payload.length; i++) {
    await s.sendFrame({
      opcode: i === 0 ? Op.Text : Op.Continuation,
      payload: payload.subarray(i, i + 1),
      fin: i === payload.length - 1,
    });
  }
}

// 6.2: valid UTF-8, whole, split on a code point boundary, split inside code points.
const hello = Buffer.from("Hello-µ@ßöäüàá-UTF-8!!");
cases.push(
  {
    id: "6.2.1",
    description: "Valid UTF-8 text in one fragment",
    expected: { ok: [text(hello)] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendFrame({ opcode: Op.Text, payload: hello }),
  },
  {
    id: "6.2.2",
    description: "Valid UTF-8 text in 2 fragments split on a code point boundary",
    expected: { ok: [text(hello)] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      const split = Buffer.from("Hello-µ@ßöä").length;
      await s.sendFrame({ opcode: Op.Text, payload: hello.subarray(0, split), fin: false });
      await s.sendFrame({ opcode: Op.Continuation, payload: hello.subarray(split) });
    },
  },
  {
    id: "6.2.3",
    description: "Valid UTF-8 text in 1-byte fragments (splitting code points)",
    expected: { ok: [text(hello)] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => sendOctetFragments(s, hello),
  },
  {
    id: "6.2.4",
    description: "Valid UTF-8 text (κόσμε) in 1-byte fragments",
    expected: { ok: [text(KOSME)] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => sendOctetFragments(s, KOSME),
  },
);

// 6.3: invalid UTF-8 (a surrogate), whole and in 1-byte fragments.
const invalidSurrogate = Buffer.concat([KOSME, hex("eda080"), Buffer.from("edited")]);
cases.push(
  {
    id: "6.3.1",
    description: "Invalid UTF-8 text in one fragment",
    expected: { ok: [] },
    expectedClose: failsWith(1007),
    run: (s) => s.sendFrame({ opcode: Op.Text, payload: invalidSurrogate }),
  },
  {
    id: "6.3.2",
    description: "Invalid UTF-8 text in 1-byte fragments",
    expected: { ok: [] },
    expectedClose: failsWith(1007),
    run: (s) => sendOctetFragments(s, invalidSurrogate),
  },
);

// 6.4: fail fast. The peer must fail as soon as the offending byte arrives, not at message end.
// Part 1 is valid; after it the connection must still be open ("A"); after part 2 it must close.
const outOfRange = Buffer.concat([KOSME, hex("f4908080"), Buffer.from("edited")]);
const partsWhole = [KOSME, hex("f4908080"), Buffer.from("edited")];
const partsTight = [
  outOfRange.subarray(0, 12),
  outOfRange.subarray(12, 13),
  outOfRange.subarray(13),
];
const FAIL_FAST_WAIT_MS = 2000;
for (const [id, parts, asFrames] of [
  ["6.4.1", partsWhole, true],
  ["6.4.2", partsTight, true],
  ["6.4.3", partsWhole, false],
  ["6.4.4", partsTight, false],
] as const) {
  cases.push({
    id,
    description: `Invalid UTF-8 in 3 ${asFrames ? "fragments" : "chops of one frame"}, with pauses; the peer must fail after part 2`,
    expected: { ok: [timeout("A")], nonStrict: [timeout("A"), timeout("B")] },
    expectedClose: failsWith(1007),
    timeoutMs: 15000,
    run: async (s) => {
      if (asFrames) {
        await s.sendFrame({ opcode: Op.Text, payload: parts[0], fin: false });
        if (!(await s.wait(100, "A"))) return;
        await s.sendFrame({ opcode: Op.Continuation, payload: parts[1], fin: false });
        if (!(await s.wait(FAIL_FAST_WAIT_MS, "B"))) return;
        await s.sendFrame({ opcode: Op.Continuation, payload: parts[2] });
      } else {
        const key = await s.beginFrame(Op.Text, outOfRange.length, parts[0]);
        const mask = key.length === 4 ? key : null;
        if (!(await s.wait(100, "A"))) return;
        await s.continueFrame(parts[1], parts[0].length, mask);
        if (!(await s.wait(FAIL_FAST_WAIT_MS, "B"))) return;
        await s.continueFrame(parts[2], parts[0].length + parts[1].length, mask);
      }
    },
  });
}

/** Markus Kuhn's UTF-8 test sequences, grouped as sections 6.5 to 6.23 (validity: isUtf8). */
function kuhnSequences(): Array<[string, Buffer[]]> {
  const groups: Array<[string, string[]]> = [
    [
      "Some valid UTF-8 sequences",
      [
        "68656c6c6f24776f726c64",
        "68656c6c6fc2a2776f726c64",
        "68656c6c6fe282ac776f726c64",
        "68656c6c6ff0a4ada2776f726c64",
        KOSME.toString("hex"),
      ],
    ],
    [
      "All prefixes of a valid UTF-8 string with multi-byte code points",
      Array.from({ length: KOSME.length }, (_, i) => KOSME.subarray(0, i + 1).toString("hex")),
    ],
    ["First possible sequence of a certain length", ["00", "c280", "e0a080", "f0908080"]],
    ["First possible sequence length 5/6 (invalid code points)", ["f888808080", "fc8480808080"]],
    ["Last possible sequence of a certain length", ["7f", "dfbf", "efbfbf", "f48fbfbf"]],
    [
      "Last possible sequence length 4/5/6 (invalid code points)",
      ["f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf"],
    ],
    ["Other boundary conditions", ["ed9fbf", "ee8080", "efbfbd", "f48fbfbf", "f4908080"]],
    [
      "Unexpected continuation bytes",
      [
        "80",
        "bf",
        "80bf",
        "80bf80",
        "80bf80bf",
        "80bf80bf80",
        "80bf80bf80bf",
        Array.from({ length: 0x3f }, (_, i) => (0x80 + i).toString(16)).join(""),
      ],
    ],
    [
      "Lonely start characters",
      [
        [0xc0, 0xdf],
        [0xe0, 0xef],
        [0xf0, 0xf7],
        [0xf8, 0xfb],
        [0xfc, 0xfd],
      ].map(([from, to]) =>
        Array.from({ length: to - from }, (_, i) => `${(from + i).toString(16)}20`).join(""),
      ),
    ],
    [
      "Sequences with last continuation byte missing",
      [
        "c0",
        "e080",
        "f08080",
        "f8808080",
        "fc80808080",
        "df",
        "efbf",
        "f7bfbf",
        "fbbfbfbf",
        "fdbfbfbfbf",
      ],
    ],
    [
      "Concatenation of incomplete sequences",
      ["c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf"],
    ],
    ["Impossible bytes", ["fe", "ff", "fefeffff"]],
    [
      "Examples of an overlong ASCII character",
      ["c0af", "e080af", "f08080af", "f8808080af", "fc80808080af"],
    ],
    ["Maximum overlong sequences", ["c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf"]],
    [
      "Overlong representation of the NUL character",
      ["c080", "e08080", "f0808080", "f880808080", "fc8080808080"],
    ],
    [
      "Single UTF-16 surrogates",
      ["eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf"],
    ],
    [
      "Paired UTF-16 surrogates",
      [
        "eda080edb080",
        "eda080edbfbf",
        "edadbfedb080",
        "edadbfedbfbf",
        "edae80edb080",
        "edae80edbfbf",
        "edafbfedb080",
        "edafbfedbfbf",
      ],
    ],
    ["Non-character code points (valid UTF-8)", ["efbfbe", "efbfbf", ...nonCharacters()]],
    [
      "Unicode specials (replacement character and others)",
      ["efbfb9", "efbfba", "efbfbb", "efbfbc", "efbfbd", "efbfbe", "efbfbf"],
    ],
  ];
  return groups.map(([name, list]) => [name, list.map((h) => Buffer.from(h, "hex"))]);
}

/** Non-characters U+nFFFE and U+nFFFF of planes 1 to 16, as 4-byte sequences. */
function nonCharacters(): string[] {
  const out: string[] = [];
  for (const z1 of ["f0", "f1", "f2", "f3", "f4"]) {
    for (const z2 of ["8f", "9f", "af", "bf"]) {
      if (z1 === "f4" && z2 !== "8f") continue; // above U+10FFFF
      for (const z3 of ["be", "bf"]) {
        const seq = `${z1}${z2}bf${z3}`;
        if (seq !== "f08fbfbe" && seq !== "f08fbfbf") out.push(seq); // overlong
      }
    }
  }
  return out;
}

kuhnSequences().forEach(([name, payloads], group) => {
  payloads.forEach((payload, i) => {
    const valid = isUtf8(payload);
    cases.push({
      id: `6.${group + 5}.${i + 1}`,
      description: `${name}: 0x${payload.toString("hex")} (${valid ? "valid" : "invalid"})`,
      expected: { ok: valid ? [text(payload)] : [] },
      expectedClose: valid ? NORMAL_CLOSE : failsWith(1007),
      run: (s) => s.sendFrame({ opcode: Op.Text, payload }),
    });
  });
});

/** Section 6. */
export const utf8Cases = cases;

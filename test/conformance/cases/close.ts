/**
 * Section 7 of the Autobahn testsuite: close handling, close frame structure, and the valid (7.7)
 * and invalid (7.9) close code tables. Codes 1012-1014 (IANA-registered, valid per the design doc)
 * and 1015 are added to the tables as 7.7.14-16 and 7.9.10.
 */
import { closePayload, Op } from "../../helpers/frames.js";
import type { ConformanceCase } from "../case.js";
import { NORMAL_CLOSE, text } from "./dsl.js";

const cases: ConformanceCase[] = [];
const INVALID_UTF8_REASON = Buffer.from("cebae1bdb9cf83cebcceb5eda080656469746564", "hex");

cases.push(
  {
    id: "7.1.1",
    description: "Text message, then a close frame",
    expected: { ok: [text("Hello World!")] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, payload: "Hello World!" });
      await s.sendClose(1000);
    },
  },
  {
    id: "7.1.2",
    description: "Two close frames: the second is ignored",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendClose(1000);
      await s.sendFrame({ opcode: Op.Close, payload: closePayload(1000) });
    },
  },
  {
    id: "7.1.3",
    description: "Close, then a ping: no pong",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendClose(1000);
      await s.sendFrame({ opcode: Op.Ping, payload: "Hello World!" });
    },
  },
  {
    id: "7.1.4",
    description: "Close, then a text message: no echo",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendClose(1000);
      await s.sendFrame({ opcode: Op.Text, payload: "Hello World!" });
    },
  },
  {
    id: "7.1.5",
    description: "First fragment, close, last fragment: no message",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, payload: "fragment1", fin: false });
      await s.sendClose(1000);
      await s.sendFrame({ opcode: Op.Continuation, payload: "fragment2" });
    },
  },
  {
    id: "7.1.6",
    description:
      "256 KiB message, a small message, close, ping (outcome is implementation-defined)",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    informational: true,
    run: async (s) => {
      await s.sendFrame({ opcode: Op.Text, payload: Buffer.alloc(256 * 1024, "BAsd7&jh23") });
      await s.sendFrame({ opcode: Op.Text, payload: "Hello World!" });
      await s.sendClose(1000);
      await s.sendFrame({ opcode: Op.Ping });
    },
  },
  {
    id: "7.3.1",
    description: "Close frame with an empty payload",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendCloseFrame(Buffer.alloc(0)),
  },
  {
    id: "7.3.2",
    description: "Close frame with a 1-byte payload",
    expected: { ok: [] },
    expectedClose: { closedByMe: true, codes: [1002], requireClean: false },
    run: (s) => s.sendCloseFrame(Buffer.from("a")),
  },
  {
    id: "7.3.3",
    description: "Close frame with code 1000 and no reason",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendCloseFrame(closePayload(1000)),
  },
  {
    id: "7.3.4",
    description: "Close frame with code 1000 and a reason",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendCloseFrame(closePayload(1000, "Hello World!")),
  },
  {
    id: "7.3.5",
    description: "Close frame with code 1000 and a 123-byte reason (125-byte payload)",
    expected: { ok: [] },
    expectedClose: NORMAL_CLOSE,
    run: (s) => s.sendCloseFrame(closePayload(1000, "*".repeat(123))),
  },
  {
    id: "7.3.6",
    description: "Close frame with code 1000 and a 124-byte reason (126-byte payload)",
    expected: { ok: [] },
    expectedClose: { closedByMe: true, codes: [1002], requireClean: false },
    run: (s) => s.sendCloseFrame(closePayload(1000, "*".repeat(124))),
  },
  {
    id: "7.5.1",
    description: "Close frame with a reason that is not UTF-8",
    expected: { ok: [] },
    expectedClose: { closedByMe: true, codes: [1002, 1007], requireClean: false },
    run: (s) => s.sendCloseFrame(closePayload(1000, INVALID_UTF8_REASON)),
  },
);

const validCodes = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999, 1012, 1013, 1014,
];
validCodes.forEach((code, i) => {
  cases.push({
    id: `7.7.${i + 1}`,
    description: `Close with valid code ${code}: clean close with 1000 or the same code`,
    expected: { ok: [] },
    expectedClose: { closedByMe: true, codes: [1000, code], requireClean: true },
    run: (s) => s.sendCloseFrame(closePayload(code)),
  });
});

const invalidCodes = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 1015];
invalidCodes.forEach((code, i) => {
  cases.push({
    id: `7.9.${i + 1}`,
    description: `Close with invalid code ${code}: protocol error or dropped TCP`,
    expected: { ok: [] },
    expectedClose: { closedByMe: true, codes: [1002], requireClean: false },
    run: (s) => s.sendCloseFrame(closePayload(code)),
  });
});

for (const [id, code] of [
  ["7.13.1", 5000],
  ["7.13.2", 65535],
] as const) {
  cases.push({
    id,
    description: `Close with code ${code} (outcome undefined by the spec)`,
    expected: { ok: [] },
    expectedClose: { closedByMe: true, codes: [1000, code, 1002], requireClean: false },
    informational: true,
    run: (s) => s.sendCloseFrame(closePayload(code)),
  });
}

/** Section 7. */
export const closeCases = cases;

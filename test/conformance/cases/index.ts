/** Every conformance case, grouped by Autobahn section. */
import type { ConformanceCase } from "../case.js";
import { closeCases } from "./close.js";
import { compressionCases } from "./compression.js";
import { framingCases } from "./framing.js";
import { limitCases } from "./limits.js";
import { utf8Cases } from "./utf8.js";

/** All cases in Autobahn order. */
export const allCases: ConformanceCase[] = [
  ...framingCases,
  ...utf8Cases,
  ...closeCases,
  ...limitCases,
  ...compressionCases,
];

/** The cases of one top-level section ("1", "2", ..., "13"). */
export function section(name: string): ConformanceCase[] {
  return allCases.filter((c) => c.id.split(".")[0] === name);
}

/** Section names with a title, in order. */
export const SECTIONS: Array<[string, string]> = [
  ["1", "Framing"],
  ["2", "Pings/Pongs"],
  ["3", "Reserved Bits"],
  ["4", "Opcodes"],
  ["5", "Fragmentation"],
  ["6", "UTF-8 Handling"],
  ["7", "Close Handling"],
  ["9", "Limits/Performance (reduced sizes)"],
  ["10", "Auto-Fragmentation"],
  ["12", "WebSocket Compression (different payloads)"],
  ["13", "WebSocket Compression (different parameters)"],
];

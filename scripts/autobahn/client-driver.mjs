// Drives duplexio's WebSocket client through an Autobahn|Testsuite fuzzing server (wstest -m
// fuzzingserver): runs every case, echoing each message back as it came (text as text, binary as
// binary, permessage-deflate offered), then asks the fuzzing server to write its reports.
//
//   npm run build && node scripts/autobahn/client-driver.mjs ws://127.0.0.1:9002
//
// See docs/conformance/autobahn.md.
import { WebSocket } from "duplexio/websocket";

const base = process.argv[2] ?? "ws://127.0.0.1:9002";
const agent = process.argv[3] ?? "duplexio";

/** Opens `url`, hands each message to `onMessage`, resolves with the close code. */
function session(url, onMessage) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, [], { perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
    ws.on("message", (data, isBinary) => onMessage?.(ws, data, isBinary));
    // Many cases end in a protocol error on purpose: the close code is the outcome.
    ws.on("error", () => {});
    ws.on("close", (code) => resolve(code));
  });
}

let count = 0;
await session(`${base}/getCaseCount`, (_ws, data) => {
  count = Number(data.toString());
});
if (!(count > 0)) {
  console.error(`no cases from ${base}/getCaseCount`);
  process.exit(1);
}
console.log(`${count} cases`);
for (let i = 1; i <= count; i++) {
  await session(`${base}/runCase?case=${i}&agent=${agent}`, (ws, data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  if (i % 50 === 0 || i === count) console.log(`${i} of ${count} run`);
}
await session(`${base}/updateReports?agent=${agent}`);
console.log("reports written");

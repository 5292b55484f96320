/**
 * Autobahn-style conformance of the WebSocketServer under test: a raw-socket fuzzing client runs
 * every case of sections 1-13 against an echo server (text echoed as text, binary as binary,
 * permessage-deflate accepted). Any FAILED case fails the section's test.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningEchoServer, startEchoServer } from "../helpers/echo-server.js";
import { SECTIONS, section } from "./cases/index.js";
import { assertNoFailures } from "./report.js";
import { runAgainstServer } from "./runner.js";

describe("conformance: fuzzing client against the subject server", () => {
  let server: RunningEchoServer;
  before(async () => {
    server = await startEchoServer({ perMessageDeflate: true });
  });
  after(() => server.close());

  for (const [name, title] of SECTIONS) {
    it(`section ${name}: ${title}`, async (t) => {
      const results = [];
      for (const testCase of section(name))
        results.push(await runAgainstServer(testCase, server.port));
      if (name === "12") {
        // The default offer must be accepted by a server with permessage-deflate on.
        assert.deepEqual(
          results.filter((r) => r.behavior === "UNIMPLEMENTED").map((r) => r.id),
          [],
          "section 12 cases where the default offer was declined",
        );
      }
      assertNoFailures(`server, section ${name}`, results, (line) => t.diagnostic(line));
    });
  }
});

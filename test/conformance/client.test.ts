/**
 * Autobahn-style conformance of the WebSocket client under test: a raw-socket fuzzing server runs
 * every case of sections 1-13 against an echo client (each message sent back as it came). Any
 * FAILED case fails the section's test; so does a client that never emits `close` or whose
 * send() throws.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "../helpers/subject.js";
import type { CaseResult } from "./case.js";
import { SECTIONS, section } from "./cases/index.js";
import { assertNoFailures } from "./report.js";
import { type ClientRun, FuzzingServer } from "./runner.js";

describe("conformance: fuzzing server against the subject client", () => {
  const fuzzer = new FuzzingServer();
  before(() => fuzzer.start());
  after(() => fuzzer.close());

  for (const [name, title] of SECTIONS) {
    it(`section ${name}: ${title}`, async (t) => {
      const results: CaseResult[] = [];
      for (const testCase of section(name)) {
        const sendErrors: string[] = [];
        const startClient = (run: ClientRun) =>
          new Promise<void>((resolve) => {
            const client = new WebSocket(run.url, { perMessageDeflate: run.perMessageDeflate });
            client.on("message", (data, isBinary) => {
              try {
                client.send(data as Buffer, { binary: isBinary });
              } catch (error) {
                sendErrors.push((error as Error).message);
              }
            });
            // Failing the connection is an expected outcome in many cases; it is judged by the
            // fuzzer from the wire, not from this event.
            client.on("error", () => {});
            client.on("close", () => resolve());
          });
        const result = await fuzzer.run(testCase, startClient);
        if (sendErrors.length > 0 && result.behavior !== "FAILED") {
          result.behavior = "FAILED";
          result.detail = `send() threw: ${sendErrors[0]}`;
        }
        results.push(result);
      }
      if (name === "12") {
        assert.deepEqual(
          results.filter((r) => r.behavior === "UNIMPLEMENTED").map((r) => r.id),
          [],
          "section 12 cases where the client offered no permessage-deflate",
        );
      }
      assertNoFailures(`client, section ${name}`, results, (line) => t.diagnostic(line));
    });
  }
});

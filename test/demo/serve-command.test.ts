/** `duplexio serve`'s argument handling (the server itself is tested in server.test.ts). */
import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { CliError } from "../../src/cli/errors.js";
import { runServe } from "../../src/cli/serve.js";

describe("duplexio serve", () => {
  it("prints its usage with --help and starts nothing", async () => {
    const log = mock.method(console, "log", () => {});
    try {
      await runServe(["--help"]);
      assert.equal(log.mock.callCount(), 1);
      const usage = String(log.mock.calls[0]?.arguments[0]);
      assert.match(usage, /^Usage: duplexio serve \[--port 8080\] \[--host 127\.0\.0\.1\]/);
      assert.match(usage, /--tick-interval MS/);
    } finally {
      log.mock.restore();
    }
  });

  it("refuses bad flags with a usage error (exit code 2)", async () => {
    for (const argv of [
      ["--port", "http"],
      ["--port", "70000"],
      ["--tick-interval", "0"],
      ["--tick-interval", "1.5"],
      ["--colour"],
    ]) {
      await assert.rejects(
        runServe(argv),
        (error: unknown) => error instanceof CliError && error.exitCode === 2,
        argv.join(" "),
      );
    }
  });
});

/**
 * A worker's IPC error does not end the primary: cluster sends a failed listen's error to every
 * worker waiting on the port, and one that has already exited makes that send fail with EPIPE
 * on its Worker object (seen once as a crash of `duplexio serve --workers 2` on a port in use).
 * An expected channel error is ignored, any other is logged; the workers still stop.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

test("the primary survives its workers' IPC errors, logs the unexpected ones and stops", () => {
  const fixture = fileURLToPath(new URL("./fixtures/worker-ipc-error.ts", import.meta.url));
  const result = spawnSync(process.execPath, ["--import", "tsx", fixture], {
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, "warn: worker 1/1: something else\nstopped\n");
});

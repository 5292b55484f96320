/**
 * Compiles adapter-types.types.ts with tsc (`--noEmit`, the project's compiler options): plugging
 * each official adapter factory (`@socket.io/redis-adapter`, `-redis-streams-adapter`,
 * `-cluster-adapter`, socket.io-adapter's classes) and duplexio's own into
 * `new Server({ adapter })` type-checks, the adapter's room events have their listener types,
 * and the mistakes marked `@ts-expect-error` are refused.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("adapter types", () => {
  const dir = mkdtempSync(join(tmpdir(), "duplexio-adapter-types-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("new Server({ adapter: createAdapter(...) }) type-checks with every adapter package", () => {
    const config = join(dir, "tsconfig.json");
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(root, "tsconfig.json"),
        compilerOptions: { noEmit: true, typeRoots: [join(root, "node_modules/@types")] },
        include: [],
        files: [join(root, "test/adapters-interop/adapter-types.types.ts")],
      }),
    );
    const result = spawnSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", config],
      { cwd: root, encoding: "utf8", timeout: 50_000 },
    );
    assert.equal(result.status, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
  });
});

/**
 * Untyped and typed socket.io code compiles against duplexio as it does against socket.io: each
 * file of fixtures/ (written against "socket.io" / "socket.io-client") is type-checked twice with
 * tsc's API, once as written and once with its imports turned to "duplexio" / "duplexio/client"
 * (the package's own exports, i.e. the built dist/*.d.ts: `npm run build` first). Both must give
 * 0 errors; an `@ts-expect-error` that finds no error is an error too, so typed events that stop
 * being strict fail as surely as defaults that stop accepting untyped code.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const files = readdirSync(fixtures)
  .filter((name) => name.endsWith(".ts"))
  .sort()
  .map((name) => join(fixtures, name));

/** The project's compiler options (strict, NodeNext), without output. */
function compilerOptions(): ts.CompilerOptions {
  const configPath = join(root, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return { ...parsed.options, noEmit: true, declaration: false, sourceMap: false };
}

/** Turns a fixture's socket.io imports into duplexio's. */
function toDuplexio(source: string): string {
  return source
    .replaceAll('from "socket.io-client"', 'from "duplexio/client"')
    .replaceAll('from "socket.io"', 'from "duplexio"');
}

/**
 * Type-checks `rootFiles`, each read through `rewrite`, and returns the diagnostics as tsc
 * prints them. Rewritten files stay at their own path, so "duplexio" resolves there as a
 * package's import of itself (package.json "exports").
 */
function typeCheck(rootFiles: string[], rewrite: (source: string) => string): string[] {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const roots = new Set(rootFiles);
  const readFile = host.readFile.bind(host);
  host.readFile = (path) => {
    const text = readFile(path);
    return text !== undefined && roots.has(path) ? rewrite(text) : text;
  };
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (path, languageVersion, onError, shouldCreate) => {
    if (!roots.has(path)) return getSourceFile(path, languageVersion, onError, shouldCreate);
    const text = host.readFile(path);
    return text === undefined ? undefined : ts.createSourceFile(path, text, languageVersion);
  };
  const program = ts.createProgram(rootFiles, options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) =>
    ts.formatDiagnostic(diagnostic, {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => root,
      getNewLine: () => "\n",
    }),
  );
}

test("the fixtures cover untyped and typed code, server and client", () => {
  const names = files.map((file) => file.slice(fixtures.length));
  for (const name of [
    "untyped-server.ts",
    "untyped-client.ts",
    "typed-server.ts",
    "typed-client.ts",
  ]) {
    assert.ok(names.includes(name), name);
  }
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    assert.notEqual(toDuplexio(source), source, `${file} imports neither socket.io package`);
  }
});

test("the fixtures compile against socket.io and socket.io-client with 0 errors", () => {
  assert.deepEqual(
    typeCheck(files, (source) => source),
    [],
  );
});

test("the fixtures compile against duplexio's built types with 0 errors", () => {
  assert.ok(
    existsSync(join(root, "dist/index.d.ts")) && existsSync(join(root, "dist/client/index.d.ts")),
    "dist/ has no declarations: run `npm run build` first",
  );
  assert.deepEqual(typeCheck(files, toDuplexio), []);
});

/**
 * The design pages (`docs/design/*.md`) stay true to the tree: every module under `src/` has its
 * line in a module table, every module a table lists exists, every page says what its layers
 * "may import", and every file the pages (and CONTRIBUTING.md) cite exists. A new module fails
 * this test until its line is written (in the same commit).
 *
 * A module table is a Markdown table whose first header cell is "file". Its rows name modules in
 * their first cell, in backticks (several per cell allowed): a name starting with `src/` is a
 * path from the repository's root; any other is relative to the directory of the nearest heading
 * above the table that names one (`## src/websocket (Node I/O)`).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const designDir = join(root, "docs/design");

/** Repository paths (forward slashes) of the files under `dir`, ignoring `node_modules`. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .filter((path) => !path.includes("node_modules/"));
}

interface Page {
  /** From the repository's root. */
  readonly path: string;
  readonly lines: readonly string[];
}

function readPage(path: string): Page {
  return { path, lines: readFileSync(join(root, path), "utf8").split("\n") };
}

const pages: Page[] = readdirSync(designDir)
  .filter((name) => name.endsWith(".md"))
  .sort()
  .map((name) => readPage(`docs/design/${name}`));

const BACKTICKED = /`([^`\n]+)`/g;

function backticked(text: string): string[] {
  return [...text.matchAll(BACKTICKED)].map((match) => match[1] as string);
}

/** The cells of a Markdown table row (an escaped `\|` stays inside its cell). */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

interface ModuleEntry {
  /** The module's path from the repository's root. */
  readonly path: string;
  /** Where it is listed: page and line number. */
  readonly where: string;
}

/** Every module named by a module table of `page`, resolved to its repository path. */
function moduleEntries(page: Page): { entries: ModuleEntry[]; problems: string[] } {
  const entries: ModuleEntry[] = [];
  const problems: string[] = [];
  let directory: string | undefined;
  let inModuleTable = false;
  page.lines.forEach((line, index) => {
    const where = `${page.path}:${index + 1}`;
    if (line.startsWith("#")) {
      const named = /^#+\s+`?(src(?:\/[\w.-]+)*)/.exec(line);
      if (named) directory = named[1];
      inModuleTable = false;
      return;
    }
    if (!line.startsWith("|")) {
      inModuleTable = false;
      return;
    }
    const first = cells(line)[0] ?? "";
    if (!inModuleTable) {
      inModuleTable = first === "file";
      return;
    }
    if (/^-+$/.test(first)) return;
    const names = backticked(first).filter((name) => name.endsWith(".ts"));
    if (names.length === 0) problems.push(`${where}: a module table row names no .ts file`);
    for (const name of names) {
      if (name.startsWith("src/")) {
        entries.push({ path: name, where });
      } else if (directory === undefined) {
        problems.push(`${where}: \`${name}\` is under no heading that names its directory`);
      } else {
        entries.push({ path: posix.join(directory, name), where });
      }
    }
  });
  return { entries, problems };
}

const tables = pages.map(moduleEntries);
const listed = tables.flatMap((table) => table.entries);

/** Top-level directories whose files the pages cite by their repository path. */
const REPO_ROOTS = ["src/", "test/", "bench/", "scripts/", "docs/", "examples/", ".ci/"];
/** Extensions of the repository's own source and docs (ws's `.js` files, say, are cited too). */
const CITABLE = /\.(ts|mts|mjs|md|json|sh|py)$/;

/**
 * Whether a backticked token names a file of the repository: a path or a name without spaces,
 * wildcards or placeholders (`<layer>.md`), with one of the repository's extensions. Relative
 * names (`../debug.ts`) are module table entries, resolved and checked there; `.d.ts` is no file.
 */
function isCitedFile(name: string): boolean {
  return !/[\s*<>]/.test(name) && CITABLE.test(name) && !name.startsWith(".");
}

describe("docs/design", () => {
  it("finds its module tables", () => {
    assert.ok(listed.length > 100, `only ${listed.length} modules listed`);
    assert.deepEqual(
      tables.flatMap((table) => table.problems),
      [],
    );
  });

  it("lists every module under src/ in a module table", () => {
    const names = new Set(listed.map((entry) => entry.path));
    const missing = filesUnder("src")
      .filter((path) => path.endsWith(".ts") && !names.has(path))
      .sort();
    assert.deepEqual(missing, [], "modules without their line in a docs/design page");
  });

  it("says on every page what its layers may import", () => {
    const silent = pages
      .filter((page) => !page.lines.some((line) => /\bmay import\b/.test(line)))
      .map((page) => page.path);
    assert.deepEqual(silent, []);
  });

  it("lists only modules that exist", () => {
    const absent = listed
      .filter((entry) => !existsSync(join(root, entry.path)))
      .map((entry) => `${entry.where}: ${entry.path}`);
    assert.deepEqual(absent, []);
  });

  it("cites only files that exist", () => {
    const tracked = [...REPO_ROOTS.flatMap((dir) => filesUnder(dir)), "package.json", "README.md"];
    const absent: string[] = [];
    for (const page of [...pages, readPage("CONTRIBUTING.md")]) {
      page.lines.forEach((line, index) => {
        for (const token of backticked(line)) {
          const name = token.replace(/:\d+(-\d+)?$/, "");
          if (!isCitedFile(name)) continue;
          const exists = REPO_ROOTS.some((dir) => name.startsWith(dir))
            ? existsSync(join(root, name))
            : tracked.some((path) => path === name || path.endsWith(`/${name}`));
          if (!exists) absent.push(`${page.path}:${index + 1}: ${token}`);
        }
      });
    }
    assert.deepEqual(absent, [], "cited files that are not in the repository");
  });
});

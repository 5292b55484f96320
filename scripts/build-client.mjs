// Builds the browser bundles of duplexio/client with esbuild:
//   dist/client/duplexio.esm.min.js  ES module (import { io } from ".../duplexio.esm.min.js")
//   dist/client/duplexio.min.js      classic script defining the global `io` (a function with
//                                    io.Manager, io.Socket, io.connect, io.io and io.protocol, as
//                                    socket.io-client's dist/socket.io.min.js defines it)
// both minified for browsers (ES2022), with source maps, and prints their minified and gzipped
// sizes. esbuild bundles and minifies; terser then compresses again (a second pass of its own
// compressor and its renaming, about 3.5% fewer gzipped bytes), the source map following through
// both. Nothing in the browser bundle may import a Node built-in: such an import fails the build
// with the importing file named, instead of leaving a bundle that breaks in the browser.
//
//   node scripts/build-client.mjs            (part of `npm run build`; also `npm run build:client`)
//   node scripts/build-client.mjs --entry=<file> --outdir=<dir>   (other entry or output)
//
// Tests import buildClientBundles() to build into a temporary directory.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { builtinModules, createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { minify } from "terser";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The bundle files, by format. */
export const BUNDLE_FILES = {
  esm: "duplexio.esm.min.js",
  iife: "duplexio.min.js",
};

// "fs", "node:fs", "fs/promises", "node:test" (prefix-only built-ins are not in the list).
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const isNodeBuiltin = (specifier) => builtins.has(specifier) || specifier.startsWith("node:");

/**
 * Fails the build on any import of a Node built-in, naming the importer. esbuild's browser platform
 * would reject most of them too, but with a message suggesting `platform: "node"`, and a bare
 * "events" or "buffer" could be satisfied by a same-named npm package left in node_modules.
 */
const noNodeBuiltins = {
  name: "no-node-builtins",
  setup(builder) {
    builder.onResolve({ filter: /.*/ }, (args) => {
      if (!isNodeBuiltin(args.path)) return undefined;
      // esbuild adds where the import is (file and line) to the error.
      return {
        errors: [
          {
            text: `the browser bundle must not import the Node built-in "${args.path}" (only src/client/node.ts may)`,
          },
        ],
      };
    });
  },
};

/**
 * Modules replaced in the browser bundles by a browser implementation of the same contract:
 * `src/protocol/base64.ts` by `src/client/browser/base64.ts` (atob/btoa instead of tables and
 * loops; test/client/browser-base64.test.ts checks they agree), and the Node connection options
 * of the transports (TLS, agent, WebSocket headers and compression: browsers take none) by
 * `src/client/browser/connection-options.ts`, and the client's timers by
 * `src/client/browser/timers.ts` (`autoUnref` is Node's: nothing to unreference in a browser), and
 * what Node tells of a failure (fetch error causes, a refused WebSocket handshake's status) by
 * `src/client/browser/failure-details.ts` (an error's message: all a browser gives), and the
 * server's memory of escape-free strings (`src/protocol/socketio/json-safe-strings.ts`) by
 * `src/client/browser/json-safe-strings.ts`, which remembers none, and where the debug patterns
 * are read (`DEBUG` or `localStorage.debug`) by `src/client/browser/debug-patterns.ts`
 * (`localStorage.debug` only: no `process.env` in a browser bundle).
 */
const BROWSER_REPLACEMENTS = new Map(
  [
    ["src/protocol/base64.ts", "src/client/browser/base64.ts"],
    ["src/client/engine/connection-options.ts", "src/client/browser/connection-options.ts"],
    ["src/client/timers.ts", "src/client/browser/timers.ts"],
    ["src/client/engine/failure-details.ts", "src/client/browser/failure-details.ts"],
    ["src/protocol/socketio/json-safe-strings.ts", "src/client/browser/json-safe-strings.ts"],
    ["src/client/debug-patterns.ts", "src/client/browser/debug-patterns.ts"],
  ].map(([replaced, replacement]) => [join(root, replaced), join(root, replacement)]),
);

const browserReplacements = {
  name: "browser-replacements",
  setup(builder) {
    builder.onResolve({ filter: /\.js$/ }, (args) => {
      const resolved = resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
      const replacement = BROWSER_REPLACEMENTS.get(resolved);
      return replacement === undefined ? undefined : { path: replacement };
    });
  },
};

/**
 * The classic-script entry: the `io` function carries the rest of the API, as in socket.io-client
 * (`lookup.ts` hangs `io`, `connect`, `Manager`, `Socket` and `protocol` on it already).
 */
function iifeEntry(entry) {
  const specifier = JSON.stringify(pathToFileURL(entry).pathname);
  return `import { io } from ${specifier};\nglobalThis.io = io;`;
}

/**
 * Minified and gzipped byte counts of `file`, measured the same way for every bundle: gzip at
 * level 9 (`gzip -9`), the level the size targets and socket.io-client's published sizes use.
 */
export function measure(file) {
  const bytes = readFileSync(file);
  return { minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
}

/** One printed size line. */
export function sizeLine(label, { minified, gzipped }) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  return `${label}  ${minified} B min (${kb(minified)}), ${gzipped} B gzip -9 (${kb(gzipped)})`;
}

/**
 * Builds both bundles of `entry` into `outdir`; resolves to their paths and sizes. Rejects (with
 * esbuild's error list in the message) when the bundle graph does not build for browsers.
 *
 * @param {{ entry?: string, outdir?: string, log?: (line: string) => void }} [options]
 */
export async function buildClientBundles(options = {}) {
  const entry = resolve(root, options.entry ?? "src/client/index.ts");
  const outdir = resolve(root, options.outdir ?? "dist/client");
  const log = options.log ?? ((line) => console.log(line));
  await mkdir(outdir, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    sourcemap: "external",
    write: false,
    platform: "browser",
    // ES2022 keeps class fields and #private members native (es2020 rewrites them as WeakMaps,
    // 6% larger); every browser since 2021 runs it (Chrome 84, Firefox 90, Safari 15).
    target: "es2022",
    legalComments: "none",
    logLevel: "silent",
    plugins: [noNodeBuiltins, browserReplacements],
    absWorkingDir: root,
  };
  const outputs = [
    { format: "esm", file: join(outdir, BUNDLE_FILES.esm), entryPoints: [entry] },
    {
      format: "iife",
      file: join(outdir, BUNDLE_FILES.iife),
      stdin: { contents: iifeEntry(entry), resolveDir: root, sourcefile: "duplexio-global.js" },
    },
  ];
  const results = [];
  for (const { format, file, entryPoints, stdin } of outputs) {
    let bundled;
    try {
      bundled = await build({
        ...common,
        format,
        outfile: file,
        ...(stdin ? { stdin } : { entryPoints }),
      });
    } catch (error) {
      const messages = (error.errors ?? []).map((e) => {
        const at = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : "";
        return `  ${at}${e.text}`;
      });
      throw new Error(
        `building the ${format} client bundle failed:\n${messages.join("\n") || error.message}`,
      );
    }
    await writeMinified(file, format, bundled.outputFiles);
    const size = measure(file);
    log(sizeLine(relative(root, file), size));
    results.push({ format, file, ...size });
  }
  return results;
}

/**
 * terser's settings: safe transformations only (no `unsafe*` options), three compressor passes,
 * and statements left as statements rather than joined into comma sequences (`a(),b()`): the same
 * code either way, and gzip finds more repeats in the plain form (26 B fewer gzipped).
 */
const TERSER_OPTIONS = { ecma: 2020, compress: { passes: 3, sequences: false }, mangle: true };

/**
 * Runs esbuild's output through terser and writes the code and its source map (mapping to the
 * TypeScript sources through esbuild's map).
 */
async function writeMinified(file, format, outputFiles) {
  const code = outputFiles.find((output) => output.path.endsWith(".js"))?.text;
  const map = outputFiles.find((output) => output.path.endsWith(".js.map"))?.text;
  if (code === undefined || map === undefined) throw new Error(`esbuild wrote no ${format} bundle`);
  const mapName = `${basename(file)}.map`;
  const result = await minify(code, {
    ...TERSER_OPTIONS,
    module: format === "esm",
    sourceMap: { content: map, url: mapName },
    format: { comments: false },
  });
  if (result.code === undefined || typeof result.map !== "string") {
    throw new Error(`terser produced no ${format} bundle`);
  }
  await writeFile(file, `${result.code}\n`);
  await writeFile(join(dirname(file), mapName), result.map);
}

/**
 * socket.io-client's own minified bundles (ESM and classic script), for the size comparison:
 * those installed.
 */
function referenceBundles() {
  let dist;
  try {
    const require = createRequire(import.meta.url);
    dist = join(dirname(require.resolve("socket.io-client/package.json")), "dist");
  } catch {
    return [];
  }
  return ["socket.io.esm.min.js", "socket.io.min.js"]
    .map((name) => ({ label: `socket.io-client/dist/${name}`, file: join(dist, name) }))
    .filter((reference) => existsSync(reference.file));
}

/** `--entry=` and `--outdir=` from the command line. */
function commandLineOptions(args) {
  const options = {};
  for (const arg of args) {
    const match = /^--(entry|outdir)=(.+)$/.exec(arg);
    if (!match)
      throw new Error(`unknown argument ${arg} (expected --entry=<file> or --outdir=<dir>)`);
    options[match[1]] = match[2];
  }
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await buildClientBundles(commandLineOptions(process.argv.slice(2)));
    for (const reference of referenceBundles()) {
      console.log(sizeLine(`(reference) ${reference.label}`, measure(reference.file)));
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}

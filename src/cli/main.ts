#!/usr/bin/env node
/**
 * The `duplexio` command. Each subcommand lives in its own module; this file only dispatches.
 */
import { readFileSync } from "node:fs";
import { CliError } from "./errors.js";
import { closestMatch, didYouMean } from "./suggest.js";

const USAGE = `Usage: duplexio <command> [options]

Commands:
  serve     The demo (npm start): chat, dashboard and metrics at http://127.0.0.1:8080/
            ("start" is an alias)
  echo      A WebSocket echo server (text stays text, binary stays binary)
  connect   An interactive WebSocket or Socket.IO client (lines typed are sent)

Run "duplexio <command> --help" for a command's options, "duplexio --version" for the version.`;

/**
 * The version in the package's package.json: two levels up from this file both in the sources
 * (src/cli/main.ts) and in the build (dist/cli/main.js).
 */
function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  const { version } = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
  if (typeof version !== "string") throw new CliError("package.json has no version", 1);
  return version;
}

type Command = (argv: string[]) => Promise<void>;

/** Each command is loaded when run: `echo` need not load the demo, nor `--help` anything. */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import("./serve.js")).runServe,
  // The name `npm start` used before the demo grew into `serve`.
  start: async () => (await import("./serve.js")).runServe,
  echo: async () => (await import("./echo.js")).runEcho,
  connect: async () => (await import("./connect.js")).runConnect,
};

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    console.log(packageVersion());
    return;
  }
  if (name === undefined) throw new CliError(`missing <command>\n\n${USAGE}`);
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    if (name.startsWith("-")) {
      throw new CliError(
        `unknown option ${name}${didYouMean(name, ["--help", "--version"])}\n\n${USAGE}`,
      );
    }
    const match = closestMatch(name, [...Object.keys(commands), "help", "version"]);
    const hint = match === undefined ? "" : `: did you mean "${match}"?`;
    throw new CliError(`unknown command "${name}"${hint}\n\n${USAGE}`);
  }
  const command = await load();
  await command(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof CliError ? error.exitCode : 1;
  // Exit once the message is written: a failed command may leave nothing else to wait for, or
  // something (a half-open connection) that would keep the process alive.
  process.stderr.write(`duplexio: ${message}\n`, () => process.exit(code));
});

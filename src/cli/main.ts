#!/usr/bin/env node
/**
 * The `duplexio` command. Each subcommand lives in its own module; this file only dispatches.
 */
import { runConnect } from "./connect.js";
import { runEcho } from "./echo.js";
import { CliError } from "./errors.js";
import { runStart } from "./start.js";

const USAGE = `Usage: duplexio <command> [options]

Commands:
  start     The demo server (npm start): an echo endpoint and a page to try it in a browser
  echo      A WebSocket echo server (text stays text, binary stays binary)
  connect   An interactive WebSocket or Socket.IO client (lines typed are sent)

Run "duplexio <command> --help" for a command's options.`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  start: runStart,
  echo: runEcho,
  connect: runConnect,
};

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return;
  }
  if (name === undefined) throw new CliError(`missing <command>\n\n${USAGE}`);
  const command = commands[name];
  if (!command) throw new CliError(`unknown command "${name}"\n\n${USAGE}`);
  await command(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof CliError ? error.exitCode : 1;
  // Exit once the message is written: a failed command may leave nothing else to wait for, or
  // something (a half-open connection) that would keep the process alive.
  process.stderr.write(`duplexio: ${message}\n`, () => process.exit(code));
});

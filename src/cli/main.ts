#!/usr/bin/env node
/**
 * The `duplexio` command. Each subcommand lives in its own module; this file only dispatches.
 */
import { runEcho } from "./echo.js";
import { CliError } from "./errors.js";
import { runStart } from "./start.js";

const USAGE = `Usage: duplexio <command> [options]

Commands:
  start     The demo server (npm start): an echo endpoint and a page to try it in a browser
  echo      A WebSocket echo server (text stays text, binary stays binary)

Run "duplexio <command> --help" for a command's options.`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  start: runStart,
  echo: runEcho,
};

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) throw new CliError(`unknown command "${name}"\n\n${USAGE}`);
  await command(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`duplexio: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof CliError ? error.exitCode : 1;
});

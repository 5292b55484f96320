#!/usr/bin/env node
/**
 * The `duplexio` command. Each subcommand lives in its own module; this file only dispatches.
 */
import { CliError } from "./errors.js";

const USAGE = `Usage: duplexio <command> [options]

Commands:
  serve     The demo (npm start): chat, dashboard and metrics at http://127.0.0.1:8080/
            ("start" is an alias)
  echo      A WebSocket echo server (text stays text, binary stays binary)
  connect   An interactive WebSocket or Socket.IO client (lines typed are sent)

Run "duplexio <command> --help" for a command's options.`;

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
  if (name === undefined) throw new CliError(`missing <command>\n\n${USAGE}`);
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) throw new CliError(`unknown command "${name}"\n\n${USAGE}`);
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

import { type ParseArgsConfig, parseArgs } from "node:util";
import { CliError } from "./errors.js";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** A subcommand's parsed flags (by long name) and its positional arguments. */
export interface ParsedCommand {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** Parses a subcommand's flags; bad flags become a CliError that names the command's usage. */
export function parseCommandOptions(
  argv: string[],
  options: OptionSpec,
  usage: string,
): ParsedCommand {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  }
}

/** A TCP port from a flag: an integer 0..65535. */
export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`invalid port "${value}"`);
  return port;
}

/** A byte count from a flag: a non-negative integer. */
export function parseByteCount(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CliError(`invalid ${name} "${value}": expected a whole number of bytes`);
  return n;
}

/** Turns a listen error into a one-line message (port in use, no permission). */
export function describeListenError(
  error: NodeJS.ErrnoException,
  host: string,
  port: number,
): CliError {
  if (error.code === "EADDRINUSE")
    return new CliError(`port ${port} on ${host} is already in use`, 1);
  if (error.code === "EACCES") return new CliError(`no permission to listen on ${host}:${port}`, 1);
  return new CliError(`cannot listen on ${host}:${port}: ${error.message}`, 1);
}

/** Runs `stop` once on SIGINT or SIGTERM, then lets the process exit. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

import { type ParseArgsConfig, parseArgs } from "node:util";
import { CliError } from "./errors.js";
import { didYouMean } from "./suggest.js";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** A subcommand's parsed flags (by long name) and its positional arguments. */
export interface ParsedCommand {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/**
 * Parses a subcommand's flags; bad flags, and more than `maxPositionals` other arguments, become
 * a CliError (exit 2) that shows the command's usage.
 */
export function parseCommandOptions(
  argv: string[],
  options: OptionSpec,
  usage: string,
  maxPositionals = 0,
): ParsedCommand {
  let parsed: ParsedCommand;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    const flags = [...Object.keys(options), "help"].map((name) => `--${name}`);
    throw usageError(describeParseError(error, flags), usage);
  }
  if (parsed.positionals.length > maxPositionals && parsed.values.help !== true)
    throw usageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`, usage);
  return parsed;
}

/**
 * node:util's parseArgs messages, shortened to what the user needs to read; an unknown flag gets
 * the known one it most likely meant (`unknown option --protcol: did you mean --protocol?`).
 */
function describeParseError(error: unknown, flags: readonly string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) {
    // "--flag=value" is reported whole; only the name is compared.
    const name = unknown[1].split("=", 1)[0];
    return `unknown option ${unknown[1]}${name.startsWith("--") ? didYouMean(name, flags) : ""}`;
  }
  const missing = /^Option '(-\S+)(?:, (--\S+))? <value>' argument missing/.exec(message);
  if (missing) return `${missing[2] ?? missing[1]} needs a value`;
  return message;
}

/**
 * A bad-usage error (exit 2): the problem on its first line, then the usage line of the command
 * (the first line of `usage`) and where to read the rest.
 */
export function usageError(problem: string, usage: string): CliError {
  const [synopsis = ""] = usage.split("\n", 1);
  const command = /^Usage: (duplexio \S+)/.exec(synopsis)?.[1] ?? "duplexio";
  return new CliError(`${problem}\n${synopsis}\nRun "${command} --help" for the options.`, 2);
}

/** A string flag's value (undefined when absent). */
export function stringOption(parsed: ParsedCommand, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : undefined;
}

/** A repeatable string flag's values, in the order given (empty when absent). */
export function stringList(parsed: ParsedCommand, name: string): string[] {
  const value = parsed.values[name];
  if (!Array.isArray(value)) return typeof value === "string" ? [value] : [];
  return value.filter((item): item is string => typeof item === "string");
}

/** Bad usage (exit 2), with the command's usage line when `usage` is given. */
function badValue(problem: string, usage: string | undefined): CliError {
  return usage === undefined ? new CliError(problem) : usageError(problem, usage);
}

/** A TCP port from a flag: an integer 0..65535. Else a CliError (exit 2, with `usage`). */
export function parsePort(value: string | undefined, fallback: number, usage?: string): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (value.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535)
    throw badValue(`invalid port "${value}"`, usage);
  return port;
}

/** A byte count from a flag: a non-negative integer. Else a CliError (exit 2, with `usage`). */
export function parseByteCount(
  name: string,
  value: string | undefined,
  fallback: number,
  usage?: string,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0)
    throw badValue(`invalid ${name} "${value}": expected a whole number of bytes`, usage);
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

/**
 * Runs `stop` once on one of `signals` (default SIGINT and SIGTERM), then lets the process exit;
 * a second signal exits at once (130).
 */
export function onShutdownSignal(
  stop: () => Promise<void>,
  signals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"],
): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of signals) process.on(signal, handler);
}

/**
 * Debian's nginx (/usr/sbin/nginx) with the configuration of examples/nginx/nginx.conf, ports
 * substituted: it listens on a free port of 127.0.0.1 and balances over the given nodes. Its own
 * prefix directory (pid, logs, temporary files) in a fresh temporary directory, in the
 * foreground (`daemon off;` is in the example), never the system service; stopped by `stop()`,
 * or when the test process exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { closedPort } from "../cli/helpers.js";
import { delay, withTimeout } from "../helpers/timing.js";

export const NGINX = "/usr/sbin/nginx";
export const EXAMPLE_CONF = fileURLToPath(
  new URL("../../examples/nginx/nginx.conf", import.meta.url),
);

/** A running nginx. */
export interface NginxProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Its error log so far. */
  errorLog(): string;
  /** SIGQUIT (graceful), SIGKILL after 5 s; deletes the directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** The nodes' ports on 127.0.0.1. */
  upstreams: number[];
  /** A balancing directive replacing round-robin in the upstream block (e.g. "hash $remote_addr consistent;"). */
  balance?: string;
}

/**
 * The example's configuration for these nodes and this port. Fails if the example no longer has
 * the lines it replaces: the test must run the example, not a configuration of its own.
 */
export function nginxConfig(port: number, options: NginxOptions): string {
  const example = readFileSync(EXAMPLE_CONF, "utf8");
  const servers =
    /^( *)server 127\.0\.0\.1:3001;\n *server 127\.0\.0\.1:3002;\n *server 127\.0\.0\.1:3003;\n/m;
  const listen = /listen 127\.0\.0\.1:8080;/;
  if (!servers.test(example) || !listen.test(example)) {
    throw new Error(`${EXAMPLE_CONF} lost its upstream servers or its listen line`);
  }
  return example
    .replace(servers, (_all, indent: string) =>
      [
        ...(options.balance === undefined ? [] : [options.balance]),
        ...options.upstreams.map((upstream) => `server 127.0.0.1:${upstream};`),
      ]
        .map((line) => `${indent}${line}\n`)
        .join(""),
    )
    .replace(listen, `listen 127.0.0.1:${port};`);
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts nginx; resolves once it accepts connections (within 10 s). */
export async function startNginx(options: NginxOptions): Promise<NginxProcess> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const child of running) child.kill("SIGKILL");
    });
  }
  const dir = mkdtempSync(join(tmpdir(), "duplexio-nginx-"));
  mkdirSync(join(dir, "temp"));
  const port = await closedPort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, nginxConfig(port, options));
  const errorLogPath = join(dir, "error.log");
  let output = "";
  const child = spawn(NGINX, ["-p", `${dir}/`, "-e", errorLogPath, "-c", conf], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  exited.then(() => running.delete(child));
  const errorLog = (): string => {
    try {
      return readFileSync(errorLogPath, "utf8");
    } catch {
      return "";
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGQUIT");
        await withTimeout(exited, 5000, "nginx to quit").catch(() => {
          child.kill("SIGKILL");
          return exited;
        });
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const deadline = Date.now() + 10000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not start: ${output}\n${errorLog()}`);
    }
    await delay(50);
  }
  return { port, url: `http://127.0.0.1:${port}`, errorLog, stop };
}

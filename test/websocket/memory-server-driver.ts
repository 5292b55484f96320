/**
 * Drives fixtures/memory-server.ts from a test: spawns it (with --expose-gc, so its RSS can be
 * measured after garbage collection), reads its JSON reports, and connects raw TCP clients that
 * complete the handshake and then stop reading, to resume later and skim the frames that arrive
 * (payloads are counted, not kept) up to the close frame.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const fixture = fileURLToPath(new URL("./fixtures/memory-server.ts", import.meta.url));

/** A running fixture process. */
export interface MemoryServer {
  child: ChildProcess;
  port: number;
  /** The next JSON report (rejects after `ms`, or when the process exits first). */
  next<T>(ms: number): Promise<T>;
  /** Asks for a report (mode "echo") and returns it. */
  request<T>(ms: number): Promise<T>;
  stop(): void;
}

/** Starts the fixture with `env` (MODE, CLIENTS, ...) and waits for its port. */
export async function startMemoryServer(env: Record<string, string>): Promise<MemoryServer> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", fixture], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = <T>(ms: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no report in ${ms} ms; ${stderr}`)), ms);
      const exited = (): void => reject(new Error(`the server exited: ${stderr}`));
      child.once("exit", exited);
      lines.next().then(
        (line) => {
          clearTimeout(timer);
          child.off("exit", exited);
          if (line.done) reject(new Error(`the server said nothing more: ${stderr}`));
          else resolve(JSON.parse(line.value) as T);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  const { port } = await next<{ port: number }>(30_000);
  return {
    child,
    port,
    next,
    request: <T>(ms: number) => {
      child.stdin!.write("report\n");
      return next<T>(ms);
    },
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** What a skimming client saw once it read again. */
export interface Skimmed {
  dataFrames: number;
  dataBytes: number;
  close: { code: number; reason: string } | null;
}

/**
 * A raw client: sends a valid upgrade request, and stops reading (pauses) as soon as the 101
 * arrives. `skim()` reads again, parsing frame headers and skipping payloads, until the close
 * frame or the end of the connection.
 */
export class SilentClient {
  readonly socket: Socket;
  readonly upgraded: Promise<void>;
  #pending: Buffer[] = [];

  constructor(port: number) {
    const socket = connect({ host: "127.0.0.1", port });
    this.socket = socket;
    socket.on("error", () => {});
    socket.write(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    this.upgraded = new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        socket.off("data", onData);
        socket.pause();
        if (!head.subarray(0, 12).toString().includes("101")) {
          reject(new Error(`not upgraded: ${head.subarray(0, end).toString()}`));
          return;
        }
        // Bytes after the head (frames already sent) are kept for skim().
        if (end + 4 < head.length) this.#pending.push(head.subarray(end + 4));
        resolve();
      };
      socket.on("data", onData);
      socket.once("close", () => reject(new Error("closed before the 101")));
    });
  }

  /** Reads everything, up to the close frame (or the end), without keeping the payloads. */
  skim(ms: number): Promise<Skimmed> {
    const result: Skimmed = { dataFrames: 0, dataBytes: 0, close: null };
    const socket = this.socket;
    let buffer: Buffer = Buffer.alloc(0);
    let skip = 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off("data", onData);
        reject(new Error(`no close frame in ${ms} ms (read ${result.dataBytes} bytes)`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        socket.off("data", onData);
        resolve(result);
      };
      const onData = (chunk: Buffer): void => {
        if (skip >= chunk.length) {
          skip -= chunk.length;
          return;
        }
        buffer = buffer.length === 0 ? chunk.subarray(skip) : Buffer.concat([buffer, chunk]);
        skip = 0;
        while (buffer.length >= 2) {
          const opcode = buffer[0] & 0x0f;
          let length = buffer[1] & 0x7f;
          let offset = 2;
          if (length === 126) {
            if (buffer.length < 4) return;
            length = buffer.readUInt16BE(2);
            offset = 4;
          } else if (length === 127) {
            if (buffer.length < 10) return;
            length = Number(buffer.readBigUInt64BE(2));
            offset = 10;
          }
          if (opcode === 0x8) {
            if (buffer.length < offset + length) return;
            const payload = buffer.subarray(offset, offset + length);
            result.close = {
              code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
              reason: payload.subarray(2).toString(),
            };
            done();
            return;
          }
          result.dataFrames++;
          result.dataBytes += length;
          if (buffer.length >= offset + length) {
            buffer = buffer.subarray(offset + length);
          } else {
            skip = offset + length - buffer.length;
            buffer = Buffer.alloc(0);
            return;
          }
        }
      };
      socket.on("data", onData);
      socket.once("close", done);
      for (const chunk of this.#pending.splice(0)) onData(chunk);
      socket.resume();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

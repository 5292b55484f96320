/**
 * Scenarios of the WHATWG WebSocket API, each run twice: in Chromium with its native WebSocket,
 * and in Node with the WebSocket under test (its browser API). Each returns a log of what it
 * observed; the logs must be equal. The functions are sent to the page as source text, so they
 * must not refer to anything outside themselves.
 */

/** The browser's WebSocket constructor type; the one under test is passed as the same type. */
export type WebSocketConstructor = typeof globalThis.WebSocket;

/** A scenario: runs against the echo endpoint at `${base}/plain` (and `${base}/reject`). */
export type Scenario = (WS: WebSocketConstructor, base: string) => Promise<string[]>;

/** The scenarios, by name. */
export const scenarios: Record<string, Scenario> = {
  lifecycle: async (WS, base) => {
    const log: string[] = [];
    const ws = new WS(`${base}/plain`, ["chat.v1", "chat.v2"]);
    log.push(
      `ctor readyState=${ws.readyState} url=${ws.url} protocol=${JSON.stringify(ws.protocol)} binaryType=${ws.binaryType} buffered=${ws.bufferedAmount} ext=${JSON.stringify(ws.extensions)}`,
    );
    log.push(
      `constants ${WS.CONNECTING}${WS.OPEN}${WS.CLOSING}${WS.CLOSED} ${ws.CONNECTING}${ws.OPEN}${ws.CLOSING}${ws.CLOSED}`,
    );
    try {
      ws.send("early");
      log.push("send before open: no throw");
    } catch (e) {
      log.push(`send before open: ${(e as Error).name}`);
    }
    await new Promise<void>((r) => {
      ws.onopen = (ev) => {
        log.push(
          `open type=${ev.type} readyState=${ws.readyState} protocol=${ws.protocol} ext=${JSON.stringify(ws.extensions)}`,
        );
        r();
      };
    });
    const msg = new Promise<void>((r) => {
      ws.onmessage = (ev) => {
        log.push(
          `message type=${ev.type} data=${typeof ev.data}:${ev.data} origin=${ev.origin} lastEventId=${JSON.stringify(ev.lastEventId)}`,
        );
        r();
      };
    });
    ws.send("héllo");
    await msg;
    for (const [code, reason] of [
      [1005, ""],
      [999, ""],
      [5000, ""],
      [2999, ""],
      [1000, "x".repeat(124)],
      [1000, "é".repeat(62)],
    ] as const) {
      try {
        ws.close(code, reason);
        log.push(`close(${code}) no throw readyState=${ws.readyState}`);
      } catch (e) {
        log.push(`close(${code},${reason.length}) ${(e as Error).name}`);
      }
    }
    const closed = new Promise<void>((r) => {
      ws.onclose = (ev) => {
        log.push(
          `close type=${ev.type} code=${ev.code} reason=${ev.reason} wasClean=${ev.wasClean} readyState=${ws.readyState}`,
        );
        r();
      };
    });
    ws.close(4000, "bye");
    log.push(`after close() readyState=${ws.readyState}`);
    try {
      ws.send("late");
      log.push(`send after close: no throw buffered=${ws.bufferedAmount}`);
    } catch (e) {
      log.push(`send after close: ${(e as Error).name}`);
    }
    ws.close(4000, "again");
    await closed;
    log.push(`final readyState=${ws.readyState} buffered=${ws.bufferedAmount}`);
    return log;
  },
  binary: async (WS, base) => {
    const log: string[] = [];
    const ws = new WS(`${base}/plain`);
    await new Promise((r) => {
      ws.onopen = r;
    });
    const next = () =>
      new Promise<unknown>((r) => {
        ws.onmessage = (ev) => r(ev.data);
      });
    const show = async (d: unknown) => {
      const kind = Object.prototype.toString.call(d);
      const bytes =
        d instanceof ArrayBuffer
          ? new Uint8Array(d)
          : d instanceof Blob
            ? new Uint8Array(await d.arrayBuffer())
            : null;
      return `${kind} ${bytes ? Array.from(bytes).join(",") : String(d)}${d instanceof Blob ? ` type=${JSON.stringify(d.type)}` : ""}`;
    };
    const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 5, 9, 9]);
    const inputs: Array<[string, () => unknown]> = [
      ["Uint8Array subarray", () => backing.subarray(2, 7)],
      ["DataView with offset", () => new DataView(backing.buffer, 3, 2)],
      ["Uint16Array", () => new Uint16Array([0x0102, 0x0304])],
      ["ArrayBuffer", () => backing.buffer.slice(0, 3)],
      ["Blob", () => new Blob([new Uint8Array([7, 8]), "ab"])],
      ["empty ArrayBuffer", () => new ArrayBuffer(0)],
      ["string", () => "text"],
    ];
    for (const binaryType of ["blob", "arraybuffer"] as const) {
      ws.binaryType = binaryType;
      for (const [name, make] of inputs) {
        const reply = next();
        ws.send(make() as string);
        log.push(`${binaryType} ${name}: ${await show(await reply)}`);
      }
    }
    ws.binaryType = "nonsense" as BinaryType;
    log.push(`binaryType after invalid: ${ws.binaryType}`);
    ws.close();
    return log;
  },
  listeners: async (WS, base) => {
    const log: string[] = [];
    const ws = new WS(`${base}/plain`);
    await new Promise((r) => ws.addEventListener("open", r, { once: true }));
    const l1 = (e: MessageEvent) => log.push(`l1:${e.data}`);
    ws.addEventListener("message", l1);
    ws.onmessage = (e) => log.push(`onmessage:${e.data}`);
    ws.addEventListener("message", (e) => log.push(`once:${e.data}`), { once: true });
    ws.addEventListener("message", {
      handleEvent: (e: Event) => log.push(`object:${(e as MessageEvent).data}`),
    });
    ws.addEventListener("message", l1);
    const wait = () => new Promise((r) => ws.addEventListener("message", r, { once: true }));
    let w = wait();
    ws.send("a");
    await w;
    ws.removeEventListener("message", l1);
    ws.onmessage = null;
    w = wait();
    ws.send("b");
    await w;
    log.push(`onmessage is ${ws.onmessage}`);
    const closed = new Promise((r) => ws.addEventListener("close", r));
    ws.close();
    const ev = (await closed) as CloseEvent;
    log.push(
      `close code=${ev.code} target=${ev.target === ws} currentTarget=${ev.currentTarget === ws} isTrusted=${ev.isTrusted} bubbles=${ev.bubbles} cancelable=${ev.cancelable}`,
    );
    return log;
  },
  refused: async (WS, base) => {
    const log: string[] = [];
    const ws = new WS(`${base}/reject`);
    ws.onopen = () => log.push("open");
    ws.onerror = (e) => log.push(`error type=${e.type} readyState=${ws.readyState}`);
    await new Promise<void>((r) => {
      ws.onclose = (e) => {
        log.push(
          `close code=${e.code} reason=${JSON.stringify(e.reason)} wasClean=${e.wasClean} readyState=${ws.readyState}`,
        );
        r();
      };
    });
    return log;
  },
  construction: async (WS, base) => {
    const log: string[] = [];
    const port = new URL(base).port;
    const tries: Array<[string, () => WebSocket]> = [
      ["http scheme", () => new WS(`http://127.0.0.1:${port}/plain`)],
      ["ftp scheme", () => new WS("ftp://127.0.0.1/")],
      ["fragment", () => new WS(`${base}/plain#frag`)],
      ["duplicate protocols", () => new WS(`${base}/plain`, ["a", "a"])],
      ["invalid protocol token", () => new WS(`${base}/plain`, ["a b"])],
      ["empty protocol", () => new WS(`${base}/plain`, [""])],
      ["string protocol", () => new WS(`${base}/plain`, "chat.v2")],
      ["no path", () => new WS(`ws://127.0.0.1:${port}`)],
      ["uppercase scheme/host", () => new WS(`WS://LOCALHOST:${port}/Plain`)],
    ];
    for (const [name, make] of tries) {
      try {
        const ws = make();
        log.push(`${name}: ok url=${ws.url} protocol=${JSON.stringify(ws.protocol)}`);
        ws.close();
      } catch (e) {
        log.push(`${name}: ${(e as Error).name}`);
      }
    }
    return log;
  },
};

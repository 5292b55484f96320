import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, get, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { WebSocketServer } from "../../src/websocket/index.js";
import {
  closed,
  closeHttp,
  closeWss,
  eventually,
  listen,
  openClient,
  refusal,
  roundTrip,
  withTimeout,
  wssPort,
} from "./server-helpers.js";

/** A GET without upgrade headers: status and body. */
function plainGet(
  port: number,
  path = "/",
): Promise<{ status: number; body: string; upgrade?: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      get({ host: "127.0.0.1", port, path }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            body,
            upgrade: response.headers.upgrade,
          }),
        );
      }).on("error", reject);
    }),
    5000,
    "plain GET",
  );
}

/** Whether a TCP connection to `port` is refused. */
function refusesConnections(port: number): Promise<boolean> {
  return withTimeout(
    new Promise((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.on("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.on("error", () => resolve(true));
    }),
    5000,
    "connect attempt",
  );
}

/** Echoes every message back on every connection of `wss`. */
function echo(wss: WebSocketServer): void {
  wss.on("connection", (socket) => {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
}

describe("WebSocketServer port mode", () => {
  it("listens, calls the listening callback, serves WebSocket clients and answers plain HTTP with 426", async () => {
    let called = 0;
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" }, () => {
      called++;
    });
    try {
      echo(wss);
      const port = await wssPort(wss);
      assert.equal(called, 1);
      const address = wss.address();
      assert.ok(address && typeof address === "object");
      assert.equal(address.address, "127.0.0.1");

      const client = await openClient(`ws://127.0.0.1:${port}/anything?x=1`);
      assert.equal(await roundTrip(client, "hello"), "hello");
      client.close();

      const plain = await plainGet(port);
      assert.equal(plain.status, 426);
      assert.equal(plain.body, "Upgrade Required");
      assert.equal(plain.upgrade, "websocket");
    } finally {
      await closeWss(wss);
    }
  });

  it("close() closes the HTTP server it created", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    await closeWss(wss);
    assert.equal(await refusesConnections(port), true);
  });

  it("emits error when the port is taken", async () => {
    const first = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(first);
    const second = new WebSocketServer({ port, host: "127.0.0.1" });
    try {
      const [error] = (await withTimeout(once(second, "error"), 5000, "error event")) as [
        NodeJS.ErrnoException,
      ];
      assert.equal(error.code, "EADDRINUSE");
    } finally {
      await closeWss(second);
      await closeWss(first);
    }
  });
});

describe("WebSocketServer server mode", () => {
  it("takes upgrades from an existing http server and leaves it running on close()", async () => {
    const http = createServer((_request, response) => response.end("plain page"));
    const wss = new WebSocketServer({ server: http });
    try {
      echo(wss);
      let listening = 0;
      wss.on("listening", () => {
        listening++;
      });
      const port = await listen(http);
      assert.equal(listening, 1, "the http server's listening event is re-emitted");
      const address = wss.address();
      assert.ok(address && typeof address === "object");
      assert.equal(address.port, port);

      const client = await openClient(`ws://127.0.0.1:${port}/`);
      assert.equal(await roundTrip(client, "over http"), "over http");
      const done = closed(client);
      await closeWss(wss);
      assert.equal((await done).code, 1001);

      const plain = await plainGet(port);
      assert.equal(plain.status, 200);
      assert.equal(plain.body, "plain page");
    } finally {
      await closeHttp(http);
    }
  });

  it("passes the request to connection listeners", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    try {
      const port = await listen(http);
      const connection = once(wss, "connection");
      const client = await openClient(`ws://127.0.0.1:${port}/room/7?token=abc`);
      const [socket, request] = (await withTimeout(connection, 5000, "connection")) as [
        unknown,
        IncomingMessage,
      ];
      assert.ok(socket);
      assert.equal(request.url, "/room/7?token=abc");
      client.close();
    } finally {
      await closeWss(wss);
      await closeHttp(http);
    }
  });

  it("does not re-emit the http server's errors when nobody listens on the WebSocketServer", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    let seenByHttp = 0;
    http.on("error", () => {
      seenByHttp++;
    });
    // Without the guard this emit would throw ("Unhandled 'error' event") from the wss.
    http.emit("error", new Error("handled by the application"));
    assert.equal(seenByHttp, 1);
    const forwarded: Error[] = [];
    wss.on("error", (error) => forwarded.push(error));
    http.emit("error", new Error("now forwarded"));
    assert.equal(forwarded.length, 1);
    await closeWss(wss);
  });
});

describe("WebSocketServer noServer mode", () => {
  it("completes handshakes handed over by the application", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    echo(wss);
    http.on("upgrade", (request, socket, head) => {
      if (request.url === "/reserved") {
        socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
        return;
      }
      wss.handleUpgrade(request, socket, head, (client, req) => {
        wss.emit("connection", client, req);
      });
    });
    try {
      assert.equal(wss.address(), null);
      const port = await listen(http);
      const client = await openClient(`ws://127.0.0.1:${port}/ok`);
      assert.equal(await roundTrip(client, "handed over"), "handed over");
      assert.equal(wss.clients.size, 1);
      client.close();
    } finally {
      await closeWss(wss);
      await closeHttp(http);
    }
  });

  it("refuses with 400 a request whose path is not its own", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true, path: "/ws" });
    http.on("upgrade", (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, (client, req) =>
        wss.emit("connection", client, req),
      );
    });
    try {
      const port = await listen(http);
      const answer = await refusal(`ws://127.0.0.1:${port}/other`);
      assert.equal(answer.status, 400);
      assert.equal(wss.shouldHandle({ url: "/ws?x=1" } as IncomingMessage), true);
      assert.equal(wss.shouldHandle({ url: "/ws/" } as IncomingMessage), false);
      const client = await openClient(`ws://127.0.0.1:${port}/ws`);
      client.close();
    } finally {
      await closeWss(wss);
      await closeHttp(http);
    }
  });
});

describe("WebSocketServer options", () => {
  it("throws TypeError unless exactly one of port, server and noServer is given", () => {
    assert.throws(() => new WebSocketServer({}), TypeError);
    assert.throws(() => new WebSocketServer({ noServer: true, port: 0 }), TypeError);
    assert.throws(() => new WebSocketServer({ noServer: true, server: createServer() }), TypeError);
    assert.throws(() => new WebSocketServer({ noServer: true, maxPayload: -1 }), TypeError);
    assert.throws(
      () => new WebSocketServer({ noServer: true, closeTimeout: Number.NaN }),
      TypeError,
    );
    assert.throws(
      () => new WebSocketServer({ noServer: true, perMessageDeflate: { serverMaxWindowBits: 16 } }),
      RangeError,
    );
    assert.throws(
      () => new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: -1 } }),
      RangeError,
    );
  });

  it("has ws's defaults", async () => {
    const wss = new WebSocketServer({ noServer: true });
    assert.equal(wss.options.maxPayload, 100 * 1024 * 1024);
    assert.equal(wss.options.perMessageDeflate, false);
    assert.equal(wss.options.clientTracking, true);
    await closeWss(wss);
  });
});

describe("WebSocketServer clients bookkeeping", () => {
  it("adds clients on connection and removes them when they close", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    try {
      const port = await wssPort(wss);
      const clients = await Promise.all([1, 2, 3].map(() => openClient(`ws://127.0.0.1:${port}`)));
      const closing = clients.map((client) => closed(client));
      // The server side sees the connection once the 101 is written, before the client's open.
      assert.equal(wss.clients.size, 3);
      const [first] = [...wss.clients];
      const gone = once(first, "close");
      first.close(1000, "bye");
      await withTimeout(gone, 5000, "server-side close");
      assert.equal(wss.clients.size, 2);
      assert.equal(wss.clients.has(first), false);

      // The server saw `first` close only after its client answered the close: it is not OPEN.
      const open = clients.filter((client) => client.readyState === client.OPEN);
      assert.equal(open.length, 2);
      open[0].terminate();
      await eventually(() => wss.clients.size === 1, "a terminated client leaves the set");
      for (const client of clients) client.close();
      await Promise.all(closing);
    } finally {
      await closeWss(wss);
    }
  });

  it("with clientTracking false keeps clients empty but still closes every client on close()", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", clientTracking: false });
    const port = await wssPort(wss);
    const connected = once(wss, "connection");
    const client = await openClient(`ws://127.0.0.1:${port}`);
    await withTimeout(connected, 5000, "connection");
    assert.equal(wss.clients.size, 0);
    const done = closed(client);
    await closeWss(wss);
    assert.equal((await done).code, 1001);
  });
});

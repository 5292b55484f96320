import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { describe, it } from "node:test";
import { WebSocketServer } from "../../src/websocket/index.js";
import {
  closeHttp,
  closeWss,
  listen,
  openClient,
  rawExchange,
  refusal,
  roundTrip,
  upgradeRequest,
} from "./server-helpers.js";

/** A server that answers every message with its name, so a test sees who took the client. */
function named(name: string, options: ConstructorParameters<typeof WebSocketServer>[0]) {
  const wss = new WebSocketServer(options);
  wss.on("connection", (socket) => {
    socket.on("message", () => socket.send(name));
  });
  return wss;
}

/**
 * A third-party upgrade handler (another library) that knows the WebSocket paths of the app and
 * handles every other upgrade: `/third` gets 418 at once; any other path gets 404 a little later,
 * the way a handler that checks something asynchronously would. A WebSocketServer that refused or
 * destroyed those sockets first would show up as a 400 or a dropped connection instead of this 404.
 */
function thirdParty(http: Server, webSocketPaths: string[]): void {
  http.on("upgrade", (request: IncomingMessage, socket: Duplex) => {
    const path = (request.url ?? "").split("?")[0];
    if (webSocketPaths.includes(path)) return;
    socket.on("error", () => {});
    if (path === "/third") {
      socket.end(
        "HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\nContent-Length: 6\r\n\r\nteapot",
      );
      return;
    }
    setTimeout(() => {
      if (!socket.destroyed && socket.writable) {
        socket.end(
          "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 11\r\n\r\nthird party",
        );
      }
    }, 30);
  });
}

describe("WebSocketServer path routing on a shared http server", () => {
  it("gives each server its own path and leaves other paths to a third-party handler", async () => {
    const http = createServer();
    thirdParty(http, ["/a", "/b"]); // registered before the WebSocketServers on purpose
    const a = named("a", { server: http, path: "/a" });
    const b = named("b", { server: http, path: "/b" });
    try {
      const port = await listen(http);
      const toA = await openClient(`ws://127.0.0.1:${port}/a?room=1`);
      const toB = await openClient(`ws://127.0.0.1:${port}/b`);
      assert.equal(await roundTrip(toA, "who"), "a");
      assert.equal(await roundTrip(toB, "who"), "b");
      assert.equal(a.clients.size, 1);
      assert.equal(b.clients.size, 1);

      const teapot = await rawExchange(port, upgradeRequest(port, { path: "/third" }));
      assert.equal(teapot.status, 418);
      assert.equal(teapot.body, "teapot");
      const nobody = await rawExchange(port, upgradeRequest(port, { path: "/nowhere" }));
      assert.equal(nobody.status, 404);
      assert.equal(nobody.body, "third party");
      toA.close();
      toB.close();
    } finally {
      await closeWss(a);
      await closeWss(b);
      await closeHttp(http);
    }
  });

  it("also works with the third-party handler registered after the servers", async () => {
    const http = createServer();
    const a = named("a", { server: http, path: "/a" });
    thirdParty(http, ["/a"]);
    try {
      const port = await listen(http);
      const nobody = await rawExchange(port, upgradeRequest(port, { path: "/b" }));
      assert.equal(nobody.status, 404);
      const toA = await openClient(`ws://127.0.0.1:${port}/a`);
      assert.equal(await roundTrip(toA, "who"), "a");
      toA.close();
    } finally {
      await closeWss(a);
      await closeHttp(http);
    }
  });

  it("answers 400 to a path no server takes when there is no other upgrade handler", async () => {
    const http = createServer();
    const a = named("a", { server: http, path: "/a" });
    const b = named("b", { server: http, path: "/b" });
    try {
      const port = await listen(http);
      const answer = await refusal(`ws://127.0.0.1:${port}/c`);
      assert.equal(answer.status, 400);
      assert.match(answer.body, /path/);
      const toB = await openClient(`ws://127.0.0.1:${port}/b`);
      assert.equal(await roundTrip(toB, "who"), "b");
      toB.close();
    } finally {
      await closeWss(a);
      await closeWss(b);
      await closeHttp(http);
    }
  });

  it("a closed server gives its path up without disturbing the others", async () => {
    const http = createServer();
    const a = named("a", { server: http, path: "/a" });
    const b = named("b", { server: http, path: "/b" });
    try {
      const port = await listen(http);
      await closeWss(a);
      assert.equal((await refusal(`ws://127.0.0.1:${port}/a`)).status, 400);
      const toB = await openClient(`ws://127.0.0.1:${port}/b`);
      assert.equal(await roundTrip(toB, "who"), "b");
      toB.close();
      await closeWss(b);
      assert.equal(
        http.listenerCount("upgrade"),
        0,
        "the shared listener is removed with the last server",
      );
    } finally {
      await closeHttp(http);
    }
  });

  it("first attached wins when paths overlap; a server without path takes what the others leave", async () => {
    const http = createServer();
    const first = named("first", { server: http, path: "/x" });
    const second = named("second", { server: http, path: "/x" });
    const rest = named("rest", { server: http });
    try {
      const port = await listen(http);
      const x = await openClient(`ws://127.0.0.1:${port}/x`);
      const y = await openClient(`ws://127.0.0.1:${port}/y`);
      assert.equal(await roundTrip(x, "who"), "first");
      assert.equal(await roundTrip(y, "who"), "rest");
      assert.equal(second.clients.size, 0);
      x.close();
      y.close();
    } finally {
      await closeWss(first);
      await closeWss(second);
      await closeWss(rest);
      await closeHttp(http);
    }
  });

  it("routes with an overridden shouldHandle", async () => {
    class Rooms extends WebSocketServer {
      override shouldHandle(request: IncomingMessage): boolean {
        return (request.url ?? "").startsWith("/rooms/");
      }
    }
    const http = createServer();
    const rooms = new Rooms({ server: http });
    rooms.on("connection", (socket, request) => {
      socket.on("message", () => socket.send(request.url ?? ""));
    });
    try {
      const port = await listen(http);
      const client = await openClient(`ws://127.0.0.1:${port}/rooms/42`);
      assert.equal(await roundTrip(client, "where"), "/rooms/42");
      assert.equal((await refusal(`ws://127.0.0.1:${port}/lobby`)).status, 400);
      client.close();
    } finally {
      await closeWss(rooms);
      await closeHttp(http);
    }
  });

  it("answers 500 when shouldHandle throws, reports the error, and keeps serving", async () => {
    class Broken extends WebSocketServer {
      override shouldHandle(request: IncomingMessage): boolean {
        if (request.url === "/boom") throw new Error("bug in shouldHandle");
        return true;
      }
    }
    const http = createServer();
    const wss = new Broken({ server: http });
    const errors: Error[] = [];
    wss.on("error", (error) => errors.push(error));
    try {
      const port = await listen(http);
      assert.equal((await refusal(`ws://127.0.0.1:${port}/boom`)).status, 500);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].message, "bug in shouldHandle");
      const client = await openClient(`ws://127.0.0.1:${port}/fine`);
      client.close();
    } finally {
      await closeWss(wss);
      await closeHttp(http);
    }
  });
});

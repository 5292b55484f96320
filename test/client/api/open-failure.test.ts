import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { io } from "../../../src/client/node.js";
import { waitFor } from "./helpers.js";

// A server that is not Socket.IO: its polling answer cannot be decoded, so the engine closes while
// opening ("parse error") without an error event. The socket must still hear about it.
describe("client: a server that is not Socket.IO", () => {
  const http = createServer((_req, res) => res.end("hello, I am a plain web server"));
  let url = "";
  before(async () => {
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(() => http.close());

  it("reports connect_error instead of waiting forever", async () => {
    const socket = io(url, { transports: ["polling"], reconnection: false, forceNew: true });
    try {
      const [error] = await waitFor<[Error]>(socket, "connect_error", 5000);
      assert.match(error.message, /parse error|closed while opening/);
      assert.equal(socket.connected, false);
      assert.equal(socket.io._readyState, "closed");
    } finally {
      socket.close();
    }
  });
});

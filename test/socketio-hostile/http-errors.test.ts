/**
 * Engine.IO requests the server must refuse, over raw HTTP and raw WebSocket: each gets the
 * protocol's documented answer (a 400 with the JSON `{ code, message }` of the error table, a 403
 * from allowRequest, a 413 for an oversized polling body, a 1009 close for an oversized WebSocket
 * message), the matching `connection_error` event, and the well-behaved client connected
 * alongside keeps working.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { delay } from "../helpers/timing.js";
import { expectEchoes } from "../socketio-interop/client.js";
import {
  type ConnectionError,
  type HostileSubject,
  MAX_HTTP_BUFFER_SIZE,
  PING_INTERVAL,
  startHostileSubject,
} from "./hostile-subject.js";
import {
  ENGINE_ERRORS,
  enginePath,
  expectSessionEnds,
  pollingHandshake,
  type RawResponse,
  RawWebSocket,
  rawRequest,
} from "./raw-engine.js";

let subject: HostileSubject;

before(async () => {
  subject = await startHostileSubject();
});
after(() => subject.close());

const ERRORS = ENGINE_ERRORS;

/**
 * Asserts a JSON error answer, and that the server emitted the `connection_error` with the same
 * code and the table's message (the answer may carry a more specific one, e.g. allowRequest's).
 */
function expectRefusal(
  res: RawResponse,
  status: number,
  error: ConnectionError,
  event: ConnectionError = error,
): void {
  assert.equal(res.status, status, `status; body ${res.body}`);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  assert.deepEqual(JSON.parse(res.body), error);
  assert.deepEqual(subject.connectionErrors.at(-1), event);
}

describe("refused requests: 400 with the JSON error, and connection_error", () => {
  const polling = { transport: "polling" };
  const cases: Array<{
    name: string;
    path: () => Promise<string> | string;
    method?: string;
    body?: string;
    error: ConnectionError;
  }> = [
    {
      name: "GET with an unknown sid",
      path: () => enginePath({ ...polling, sid: "bogus" }),
      error: ERRORS.sessionIdUnknown,
    },
    {
      name: "POST with an unknown sid",
      path: () => enginePath({ ...polling, sid: "AAAAAAAAAAAAAAAAAAAA" }),
      method: "POST",
      body: "40",
      error: ERRORS.sessionIdUnknown,
    },
    {
      name: "PUT as a handshake",
      path: () => enginePath(polling),
      method: "PUT",
      error: ERRORS.badHandshakeMethod,
    },
    {
      name: "POST as a handshake",
      path: () => enginePath(polling),
      method: "POST",
      body: "40",
      error: ERRORS.badHandshakeMethod,
    },
    {
      name: "OPTIONS as a handshake (no cors configured)",
      path: () => enginePath(polling),
      method: "OPTIONS",
      error: ERRORS.badHandshakeMethod,
    },
    {
      name: "an unknown transport",
      path: () => enginePath({ transport: "carrier-pigeon" }),
      error: ERRORS.transportUnknown,
    },
    {
      name: "no transport",
      path: () => "/socket.io/?EIO=4",
      error: ERRORS.transportUnknown,
    },
    {
      name: "protocol version 5",
      path: () => enginePath({ ...polling, EIO: "5" }),
      error: ERRORS.unsupportedProtocolVersion,
    },
    {
      name: "protocol version 3 (allowEIO3 is off)",
      path: () => enginePath({ ...polling, EIO: "3" }),
      error: ERRORS.unsupportedProtocolVersion,
    },
    {
      name: "no protocol version (taken as 3)",
      path: () => "/socket.io/?transport=polling",
      error: ERRORS.unsupportedProtocolVersion,
    },
    {
      name: "a plain GET for the websocket transport",
      path: () => enginePath({ transport: "websocket" }),
      error: ERRORS.badRequest,
    },
    {
      name: "a polling session's sid on another transport without upgrade",
      path: async () =>
        enginePath({ transport: "websocket", sid: (await pollingHandshake(subject.url)).sid }),
      error: ERRORS.badRequest,
    },
  ];

  for (const { name, path, method, body, error } of cases) {
    it(`${name}: ${error.code} ${error.message}`, async () => {
      const res = await rawRequest(subject.url, await path(), { method, body });
      expectRefusal(res, 400, error);
      await expectEchoes(subject.goodClient, name);
    });
  }

  it("allowRequest refusing: 403 with code 4 and allowRequest's message", async () => {
    const res = await rawRequest(subject.url, enginePath({ transport: "polling" }), {
      headers: { "x-forbidden": "not you" },
    });
    expectRefusal(res, 403, { code: 4, message: "not you" }, { code: 4, message: "Forbidden" });
    await expectEchoes(subject.goodClient, "allowRequest");
  });
});

describe("polling sessions misused", () => {
  it(`a POST body over maxHttpBufferSize (${MAX_HTTP_BUFFER_SIZE}): 413`, async () => {
    const { sid } = await pollingHandshake(subject.url);
    const res = await rawRequest(subject.url, enginePath({ transport: "polling", sid }), {
      method: "POST",
      body: `4${"x".repeat(2 * MAX_HTTP_BUFFER_SIZE)}`,
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    assert.equal(res.status, 413);
    await expectEchoes(subject.goodClient, "oversized POST");
  });

  it("a binary (octet-stream) POST, which protocol 4 never sends: 400, and the session ends", async () => {
    const { sid } = await pollingHandshake(subject.url);
    const res = await rawRequest(subject.url, enginePath({ transport: "polling", sid }), {
      method: "POST",
      body: Buffer.from("40"),
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(res.status, 400);
    await expectSessionEnds(subject.url, sid);
    await expectEchoes(subject.goodClient, "octet-stream POST");
  });

  it("a POST body that is no Engine.IO payload: the session ends", async () => {
    const { sid } = await pollingHandshake(subject.url);
    await rawRequest(subject.url, enginePath({ transport: "polling", sid }), {
      method: "POST",
      body: "x\x1e\x1e",
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    await expectSessionEnds(subject.url, sid);
    await expectEchoes(subject.goodClient, "garbage POST");
  });

  it("two GETs at once on one session: the second gets 400, and the session ends", async () => {
    const { sid } = await pollingHandshake(subject.url);
    const first = rawRequest(subject.url, enginePath({ transport: "polling", sid }));
    await delay(Math.min(100, PING_INTERVAL / 4));
    const second = await rawRequest(subject.url, enginePath({ transport: "polling", sid }));
    assert.equal(second.status, 400);
    assert.equal((await first).status, 200, "the pending GET is answered, not left hanging");
    await expectSessionEnds(subject.url, sid);
    await expectEchoes(subject.goodClient, "overlapping GET");
  });
});

describe("WebSocket connections refused or closed", () => {
  it("an upgrade with an unknown sid: HTTP 400", async () => {
    await assert.rejects(
      RawWebSocket.open(subject.url, { sid: "bogus" }),
      /Unexpected server response: 400/,
    );
    assert.deepEqual(subject.connectionErrors.at(-1), ERRORS.sessionIdUnknown);
    await expectEchoes(subject.goodClient, "ws unknown sid");
  });

  it("an upgrade for protocol version 5: no session opens", async () => {
    const opened = await RawWebSocket.open(subject.url, { EIO: "5" }).catch(
      (error: Error) => error,
    );
    if (opened instanceof RawWebSocket) {
      // Refused after the upgrade: the server closes without sending an open packet.
      await opened.waitForClose();
      await assert.rejects(opened.next(100), /closed/);
      opened.destroy();
    } else {
      assert.match(opened.message, /Unexpected server response: 400/);
    }
    assert.deepEqual(subject.connectionErrors.at(-1), ERRORS.unsupportedProtocolVersion);
    await expectEchoes(subject.goodClient, "ws EIO=5");
  });

  it(`a message over maxHttpBufferSize (${MAX_HTTP_BUFFER_SIZE}): close 1009`, async () => {
    const raw = await RawWebSocket.open(subject.url);
    assert.match(String(await raw.next()), /^0\{/);
    raw.send(`4${"x".repeat(2 * MAX_HTTP_BUFFER_SIZE)}`);
    assert.equal((await raw.waitForClose()).code, 1009);
    raw.destroy();
    await expectEchoes(subject.goodClient, "ws oversized");
  });
});

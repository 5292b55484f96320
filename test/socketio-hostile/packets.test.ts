/**
 * Malformed Socket.IO and Engine.IO packets sent by a raw client after a proper handshake and
 * namespace connect. A violation closes that client's connection (the server answers nothing to
 * it, and its socket's "disconnect" says why); packets that are well-formed but pointless are
 * ignored or answered by the protocol (an unknown namespace gets a CONNECT_ERROR). Either way, the
 * well-behaved client connected alongside keeps working.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { waitUntil } from "../helpers/timing.js";
import { expectEchoes } from "../socketio-interop/client.js";
import { type HostileSubject, startHostileSubject } from "./hostile-subject.js";
import {
  enginePath,
  expectSessionEnds,
  pollingHandshake,
  rawRequest,
  rawSocketIo,
} from "./raw-engine.js";
import { binaryEvent, violations } from "./violations.js";

let subject: HostileSubject;

before(async () => {
  subject = await startHostileSubject();
});
after(() => subject.close());

describe("violations over WebSocket: the connection closes, nothing is answered", () => {
  for (const { name, frames, reasons } of violations) {
    it(name, async () => {
      const { raw, id } = await rawSocketIo(subject.url);
      try {
        for (const frame of frames) raw.send(frame);
        await raw.waitForClose();
        assert.deepEqual(raw.takeAll(), [], "the server answered the violation");
        await waitUntil(() => subject.disconnects.has(id), 5000, "the server socket's disconnect");
        assert.ok(
          reasons.includes(subject.disconnects.get(id) ?? ""),
          `disconnect reason: ${subject.disconnects.get(id)}`,
        );
      } finally {
        raw.destroy();
      }
      await expectEchoes(subject.goodClient, name);
    });
  }
});

describe("well-formed but pointless packets: the connection stays and still works", () => {
  const cases: Array<{ name: string; frame: string; answer?: string }> = [
    {
      name: "a CONNECT to a namespace that does not exist: CONNECT_ERROR",
      frame: "40/nope,",
      answer: '44/nope,{"message":"Invalid namespace"}',
    },
    // socket.io closes the whole connection for these (so its reference run fails them); duplexio
    // drops them, since a client may not have seen the server's DISCONNECT for that namespace yet.
    { name: "an EVENT for a namespace never connected", frame: '42/admin,["echo"]' },
    { name: "an EVENT for a namespace with a NUL byte", frame: '42/\u0000,["echo"]' },
    { name: "an ACK for an id never used", frame: '43999["x"]' },
    { name: "an event nobody listens to", frame: '42["nobody-listens",1,2,3]' },
    { name: "a binary event nobody listens to", frame: binaryEvent("1", 0) },
  ];
  for (const { name, frame, answer } of cases) {
    it(name, async () => {
      const { raw, id } = await rawSocketIo(subject.url);
      try {
        raw.send(frame);
        if (frame.startsWith("451-")) raw.send(Buffer.of(7));
        if (answer) assert.equal(await raw.next(), answer);
        // The raw connection still works: an event with an ack id comes back acked.
        raw.send('427["echo","still here"]');
        assert.equal(await raw.next(), '437["still here"]');
        assert.equal(subject.disconnects.has(id), false);
      } finally {
        raw.destroy();
      }
      await expectEchoes(subject.goodClient, name);
    });
  }
});

describe("violations over long-polling: the session ends", () => {
  for (const { name, body } of [
    { name: "bad JSON in an EVENT", body: "42[" },
    { name: "a huge attachment count", body: binaryEvent("999999999999", 0) },
    { name: "an unknown Engine.IO packet type", body: "9" },
  ]) {
    it(name, async () => {
      const { sid } = await pollingHandshake(subject.url);
      const path = enginePath({ transport: "polling", sid });
      const post = (text: string) =>
        rawRequest(subject.url, path, {
          method: "POST",
          body: text,
          headers: { "content-type": "text/plain;charset=UTF-8" },
        });
      assert.equal((await post("40")).status, 200);
      const connected = await rawRequest(subject.url, path);
      assert.match(connected.body, /^40\{"sid":"[^"]+"\}$/);
      const id = (JSON.parse(connected.body.slice(2)) as { sid: string }).sid;
      await post(body);
      await expectSessionEnds(subject.url, sid);
      await waitUntil(() => subject.disconnects.has(id), 5000, "the server socket's disconnect");
      await expectEchoes(subject.goodClient, name);
    });
  }
});

/**
 * The Node client's TLS options against real https servers (duplexio's and the official
 * socket.io), with certificates made for the run (`tls-certs.ts`): an untrusted certificate is
 * refused on both transports, `rejectUnauthorized: false` accepts it, `ca` pins a private CA
 * (its certificate accepted, a self-signed one refused), client certificates (`cert`/`key`, an
 * encrypted `key` with `passphrase`, `pfx` with `passphrase`) reach a server that requires them
 * on every polling request and on the upgrade, and `ciphers` decides the cipher.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { clientIsOfficial } from "../behaviour/client-under-test.js";
import { type ClientOptions, SERVER_KINDS } from "../behaviour/harness.js";
import { type OptionsServer, outcome, startOptionsServer, upgraded } from "./servers.js";
import { makeTestPki, type TestPki } from "./tls-certs.js";

const TRANSPORTS = [["polling"], ["websocket"]] as const;

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki?.remove());

/** Connects, checks an acknowledged round trip, disconnects. */
async function roundTrip(server: OptionsServer, options: ClientOptions): Promise<void> {
  const client = server.client(options);
  const result = await outcome(client);
  assert.equal(result.connected, true, result.connected ? "" : result.error.message);
  assert.equal(await client.timeout(5000).emitWithAck("echo", "over TLS"), "over TLS");
  client.disconnect();
}

/** Expects the attempt to fail; returns the error. */
async function refused(server: OptionsServer, options: ClientOptions): Promise<Error> {
  const client = server.client(options);
  const result = await outcome(client);
  assert.equal(result.connected, false, "the connection was accepted");
  client.disconnect();
  return (result as { error: Error }).error;
}

for (const kind of SERVER_KINDS) {
  describe(`TLS options [against ${kind.name}]`, () => {
    let trusted: OptionsServer;
    let rogue: OptionsServer;
    before(async () => {
      trusted = await startOptionsServer(kind, {
        tls: { cert: pki.serverCert, key: pki.serverKey },
      });
      rogue = await startOptionsServer(kind, { tls: { cert: pki.rogueCert, key: pki.rogueKey } });
    });
    after(async () => {
      await trusted?.close();
      await rogue?.close();
    });

    it("a certificate from an unknown CA is refused on both transports, naming the problem", async () => {
      for (const transports of TRANSPORTS) {
        const error = await refused(trusted, { transports: [...transports] });
        if (!clientIsOfficial) {
          assert.match(error.message, /unable to verify the first certificate/, transports[0]);
          assert.match(
            error.message,
            new RegExp(`\\(${transports[0] === "polling" ? "https" : "wss"}://127\\.0\\.0\\.1:`),
          );
        }
      }
      assert.equal(trusted.engineRequests().length, 0, "no request got through");
    });

    it("rejectUnauthorized: false accepts it (polling, WebSocket, and the upgrade)", async () => {
      for (const transports of TRANSPORTS) {
        await roundTrip(trusted, { transports: [...transports], rejectUnauthorized: false });
      }
      const client = trusted.client({ rejectUnauthorized: false });
      assert.equal((await outcome(client)).connected, true);
      await upgraded(client);
      client.disconnect();
    });

    it("ca pins the test CA: its server is accepted, a self-signed one is refused", async () => {
      for (const transports of TRANSPORTS) {
        await roundTrip(trusted, { transports: [...transports], ca: pki.caCert });
        const error = await refused(rogue, { transports: [...transports], ca: pki.caCert });
        if (!clientIsOfficial) assert.match(error.message, /self[- ]signed certificate/);
      }
      // The upgrade's handshake verifies against the pinned CA too.
      const client = trusted.client({ ca: pki.caCert });
      assert.equal((await outcome(client)).connected, true);
      await upgraded(client);
      client.disconnect();
      assert.equal(rogue.engineRequests().length, 0);
    });
  });

  describe(`TLS client certificates [against ${kind.name}]`, () => {
    let server: OptionsServer;
    before(async () => {
      server = await startOptionsServer(kind, {
        tls: {
          cert: pki.serverCert,
          key: pki.serverKey,
          ca: pki.caCert,
          requestCert: true,
          rejectUnauthorized: true,
        },
      });
    });
    after(() => server?.close());

    it("without a certificate the server refuses the client", async () => {
      for (const transports of TRANSPORTS) {
        await refused(server, { transports: [...transports], ca: pki.caCert });
      }
      assert.equal(server.engineRequests().length, 0);
    });

    it("cert and key: every polling request and the upgrade carry the client certificate", async () => {
      const before = server.requests.length;
      const client = server.client({ ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
      assert.equal((await outcome(client)).connected, true);
      assert.equal(await client.timeout(5000).emitWithAck("echo", 1), 1);
      await upgraded(client);
      assert.equal(await client.timeout(5000).emitWithAck("echo", 2), 2);
      client.disconnect();
      const seen = server.requests.slice(before);
      assert.ok(
        seen.some((r) => r.upgrade),
        "the upgrade request",
      );
      assert.ok(
        seen.some((r) => !r.upgrade && r.method === "POST"),
        "a polling POST",
      );
      for (const request of seen) {
        assert.equal(request.peerName, pki.clientName, `${request.method} ${request.url}`);
      }
    });

    it("an encrypted key with its passphrase, and pfx with its passphrase, on both transports", async () => {
      const credentials: ClientOptions[] = [
        { cert: pki.clientCert, key: pki.clientKeyEncrypted, passphrase: pki.passphrase },
        { pfx: pki.clientPfx, passphrase: pki.passphrase },
      ];
      for (const transports of TRANSPORTS) {
        for (const credential of credentials) {
          await roundTrip(server, { transports: [...transports], ca: pki.caCert, ...credential });
        }
      }
      // The wrong passphrase cannot open the key: no connection.
      const error = await refused(server, {
        transports: ["polling"],
        ca: pki.caCert,
        pfx: pki.clientPfx,
        passphrase: "wrong",
      });
      if (!clientIsOfficial)
        assert.match(error.message, /mac verify failure|bad decrypt|passphrase/i);
    });
  });

  describe(`TLS ciphers [against ${kind.name}]`, () => {
    let server: OptionsServer;
    before(async () => {
      server = await startOptionsServer(kind, {
        tls: {
          cert: pki.serverCert,
          key: pki.serverKey,
          // TLS 1.2: its cipher suites are what `ciphers` lists (TLS 1.3 has its own setting).
          maxVersion: "TLSv1.2",
          ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
        },
      });
    });
    after(() => server?.close());

    it("the client's cipher list decides: one the server has is used, none in common fails", async () => {
      for (const transports of TRANSPORTS) {
        const before = server.requests.length;
        await roundTrip(server, {
          transports: [...transports],
          ca: pki.caCert,
          ciphers: "ECDHE-ECDSA-CHACHA20-POLY1305",
        });
        const seen = server.requests.slice(before);
        assert.ok(seen.length > 0);
        for (const request of seen) assert.equal(request.cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
        const error = await refused(server, {
          transports: [...transports],
          ca: pki.caCert,
          ciphers: "ECDHE-ECDSA-AES256-GCM-SHA384",
        });
        if (!clientIsOfficial) assert.match(error.message, /handshake failure/);
      }
    });
  });
}

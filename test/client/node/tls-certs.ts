/**
 * Certificates made for the TLS tests, fresh for each run, with the `openssl` command (Debian's
 * openssl package; node:crypto makes keys but no X.509 certificates): a test CA, a server
 * certificate it signed for 127.0.0.1 and localhost, a client certificate it signed (also as an
 * encrypted key and as a PKCS#12 bundle, both with a passphrase), and a self-signed "rogue" server
 * certificate nobody trusts. EC P-256 keys: quick to make. Everything lives in a temporary
 * directory removed by `remove()`.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The test PKI: PEM text, and the PKCS#12 bundle as bytes. */
export interface TestPki {
  /** The CA that signed the server and client certificates. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Common name of the client certificate ("duplexio-test-client"). */
  clientName: string;
  clientCert: string;
  clientKey: string;
  /** `clientKey`, encrypted with {@link passphrase}. */
  clientKeyEncrypted: string;
  /** The client's key and certificate as PKCS#12, encrypted with {@link passphrase}. */
  clientPfx: Buffer;
  passphrase: string;
  /** A self-signed certificate for 127.0.0.1 and localhost, signed by no trusted CA. */
  rogueCert: string;
  rogueKey: string;
  /** Deletes the files. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: Buffer };
    if (code === "ENOENT") {
      throw new Error("the TLS tests need the openssl command: apt-get install openssl");
    }
    throw new Error(`openssl ${args.join(" ")} failed: ${stderr?.toString() ?? error}`);
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Makes the certificates (a few openssl runs, well under a second). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "duplexio-tls-"));
  const passphrase = "correct horse";
  const clientName = "duplexio-test-client";
  try {
    openssl(
      [
        ...["req", "-x509", ...EC_KEY, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
        ...["-subj", "/CN=duplexio test CA", "-addext", "basicConstraints=critical,CA:TRUE"],
        ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
      ],
      dir,
    );
    const sign = (name: string, subject: string, extensions: string): void => {
      writeFileSync(join(dir, `${name}.ext`), extensions);
      openssl(
        ["req", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject],
        dir,
      );
      openssl(
        [
          ...["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key"],
          ...["-set_serial", String(Date.now()), "-days", "2", "-out", `${name}.pem`],
          ...["-extfile", `${name}.ext`],
        ],
        dir,
      );
    };
    const san = "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    sign(
      "server",
      "/CN=localhost",
      `${san}basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
    );
    sign("client", `/CN=${clientName}`, "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
    openssl(
      [
        ...["pkcs12", "-export", "-inkey", "client.key", "-in", "client.pem"],
        ...["-out", "client.p12", "-passout", `pass:${passphrase}`],
      ],
      dir,
    );
    openssl(
      [
        ...["req", "-x509", ...EC_KEY, "-keyout", "rogue.key", "-out", "rogue.pem", "-days", "2"],
        ...["-subj", "/CN=localhost", "-addext", san.trim()],
      ],
      dir,
    );
    const read = (file: string): string => readFileSync(join(dir, file), "utf8");
    const clientKey = read("client.key");
    return {
      caCert: read("ca.pem"),
      serverCert: read("server.pem"),
      serverKey: read("server.key"),
      clientName,
      clientCert: read("client.pem"),
      clientKey,
      clientKeyEncrypted: createPrivateKey(clientKey)
        .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase })
        .toString(),
      clientPfx: readFileSync(join(dir, "client.p12")),
      passphrase,
      rogueCert: read("rogue.pem"),
      rogueKey: read("rogue.key"),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

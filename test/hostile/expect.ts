/**
 * Assertions shared by the hostile-input suites: how a failed connection must end, and that the
 * server still serves a well-behaved client afterwards.
 */
import assert from "node:assert/strict";
import { closePayload, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";

/**
 * The server must answer with a close frame carrying exactly `code`, send no data frame before it
 * (unless `allowEchoesBefore`), and close TCP once the client answered the close.
 */
export async function expectFailedWith(
  client: RawClient,
  code: number,
  options: { allowEchoesBefore?: boolean; ms?: number } = {},
): Promise<void> {
  try {
    const outcome = await client.waitForClose(options.ms ?? 5000);
    assert.ok(outcome.gotCloseFrame, `expected a close frame with ${code}, the connection ended`);
    assert.equal(outcome.code, code, `close code (reason: "${outcome.reason.toString()}")`);
    if (!options.allowEchoesBefore) {
      const dataFrames = client.frames.filter((f) => f.opcode !== Op.Close);
      assert.deepEqual(
        dataFrames.map((f) => f.opcode),
        [],
        "no frame may come before the close frame",
      );
    }
    await client.sendFrame({ opcode: Op.Close, payload: closePayload(code) });
    await client.waitForEnd(5000);
  } finally {
    client.destroy();
  }
}

/** A fresh, well-behaved client still gets its text echoed. */
export async function expectStillEchoes(port: number): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    assert.equal(client.response?.status, 101, "handshake of a well-behaved client");
    assert.equal(await client.echo("still there?"), "still there?");
    await client.sendFrame({ opcode: Op.Close, payload: closePayload(1000) });
    const outcome = await client.waitForClose();
    assert.equal(outcome.code, 1000);
  } finally {
    client.destroy();
  }
}

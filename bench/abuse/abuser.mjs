// The abuser, in its own process: `node abuser.mjs`, then a "start" message { attack, config }.
// It runs attacks/<attack>.mjs's abuse(config, channel), sends "result" and exits. Every attack
// bounds itself in connections, bytes and time.
import { exitWithParent } from "./lib/children.mjs";

exitWithParent();

const send = (message) => process.connected && process.send(message, () => {});
const handlers = new Map();
const channel = {
  send,
  /** Calls `handler(message)` for every message of `type` from the runner. */
  on(type, handler) {
    handlers.set(type, handler);
  },
};

process.on("message", async (message) => {
  if (message?.type === "start") {
    try {
      const attack = await import(`./attacks/${message.attack}.mjs`);
      const result = await attack.abuse(message.config, channel);
      send({ type: "result", result });
    } catch (error) {
      send({ type: "fatal", message: String(error?.stack ?? error) });
    }
    setTimeout(() => process.exit(0), 100);
  } else if (message?.type === "stop") {
    process.exit(0);
  } else {
    handlers.get(message?.type)?.(message);
  }
});
send({ type: "waiting" });

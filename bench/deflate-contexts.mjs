// zlib alone, as permessage-deflate drives it (one synchronous call per message on a kept stream,
// src/websocket/zlib-sync.ts), over many contexts: what one compressed echo costs in zlib when
// 1, 10, 100 or 1,000 connections take turns, so the cache misses of contexts that do not fit
// in the CPU's caches show apart from everything else. No sockets, one process. See
// bench/README.md; `node bench/deflate-contexts.mjs --help`.

import { parseArgs } from "node:util";
import { constants, createDeflateRaw, createInflateRaw } from "node:zlib";
import { commandLine, parseList, parseSize } from "./lib/cli.mjs";
import { compressMessage, makePayload } from "./lib/frames.mjs";

const USAGE = `Usage: node bench/deflate-contexts.mjs [options]   (needs a built dist/: npm run build)

  --contexts LIST   numbers of zlib contexts taking turns, one per connection  [1,10,100,1000]
  --size B          message size (the bench's JSON-like payload; k = KiB)      [1k]
  --level N         zlibDeflateOptions.level (-1 = zlib's default, 6, as ws)   [-1]
  --mem-level N     zlibDeflateOptions.memLevel                                [8]
  --messages N      messages measured per figure (after as many warm-up ones)  [40000]
  --help            this text

Per contexts count, microseconds per message:
  deflate        context takeover: the same message each time (so from the second one on it
                 compresses to a few bytes, as the deflate-active row's echoes do)
  inflate        context takeover: the client's message, compressed on its own, plus 00 00 ff ff
  deflate+reset  no context takeover: every message from an empty window (deflateReset after it)
  varied         context takeover, every message different (lines of the same kind, other
                 values): what deflate costs on traffic that does not repeat itself
`;

const parse = (argv) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      contexts: { type: "string", default: "1,10,100,1000" },
      size: { type: "string", default: "1k" },
      level: { type: "string", default: "-1" },
      "mem-level": { type: "string", default: "8" },
      messages: { type: "string", default: "40000" },
      help: { type: "boolean", default: false },
    },
  });
  const integer = (text, name, min, max) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: ${text}`);
    return n;
  };
  return {
    help: values.help,
    contexts: parseList(values.contexts, "contexts", (s, name) => integer(s, name, 1, 100_000)),
    size: parseSize(values.size, "size"),
    level: integer(values.level, "level", -1, 9),
    memLevel: integer(values["mem-level"], "mem-level", 1, 9),
    messages: integer(values.messages, "messages", 1, 10_000_000),
  };
};

/** Microseconds per call of `step(i)` over `count` calls, after `count` unmeasured ones. */
function time(count, step) {
  for (let i = 0; i < count; i++) step(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) step(i);
  return Number(process.hrtime.bigint() - start) / count / 1000;
}

async function main() {
  const options = commandLine(parse, USAGE);
  if (options === null) return;
  let SyncZlib;
  try {
    ({ SyncZlib } = await import("../dist/websocket/zlib-sync.js"));
  } catch (error) {
    throw new Error(
      `cannot load dist/websocket/zlib-sync.js (run npm run build): ${error.message}`,
    );
  }
  const payload = makePayload(options.size);
  const tail = Buffer.from([0x00, 0x00, 0xff, 0xff]);
  const compressed = Buffer.concat([compressMessage(payload, 15), tail]);
  const deflateOptions = {
    windowBits: 15,
    level: options.level,
    memLevel: options.memLevel,
    flush: constants.Z_SYNC_FLUSH,
  };
  const write = (zlib, input) => {
    const output = zlib.write(input, 0, 16 * 1024);
    if (output === null || zlib.outputFull || zlib.inputLeft !== 0) {
      throw new Error("one zlib call did not take the whole message");
    }
    return output;
  };
  console.log(
    `${options.size} B message (${compressed.length - 4} B compressed on its own), level ` +
      `${options.level}, memLevel ${options.memLevel}, ${options.messages} messages per figure`,
  );
  console.log(
    "contexts  deflate us (bytes out)  inflate us  deflate+reset us (bytes out)  varied us (bytes out)",
  );
  // Distinct messages for the varied column: as many as it writes (warm-up and measured).
  const varied = Array.from({ length: 2 * options.messages }, (_, i) =>
    makePayload(options.size, i + 1),
  );
  const variedIn = varied.reduce((sum, message) => sum + message.length, 0) / varied.length;
  for (const n of options.contexts) {
    const deflaters = [];
    const inflaters = [];
    for (let i = 0; i < n; i++) {
      deflaters.push(SyncZlib.of(createDeflateRaw(deflateOptions)));
      inflaters.push(SyncZlib.of(createInflateRaw({ windowBits: 15 })));
    }
    if (deflaters[0] === null || inflaters[0] === null) {
      throw new Error("this Node offers no synchronous zlib calls (zlib-sync.ts)");
    }
    let takeoverBytes = 0;
    const deflate = time(options.messages, (i) => {
      takeoverBytes = write(deflaters[i % n], payload).length;
    });
    const inflate = time(options.messages, (i) => {
      write(inflaters[i % n], compressed);
    });
    let aloneBytes = 0;
    const deflateReset = time(options.messages, (i) => {
      const zlib = deflaters[i % n];
      aloneBytes = write(zlib, payload).length;
      zlib.reset();
    });
    for (const zlib of deflaters) zlib.reset();
    let sent = 0;
    let variedOut = 0;
    const deflateVaried = time(options.messages, () => {
      const bytes = write(deflaters[sent % n], varied[sent]).length;
      if (sent++ >= options.messages) variedOut += bytes;
    });
    const variedAverage = Math.round(variedOut / options.messages);
    console.log(
      `${String(n).padStart(8)}  ${deflate.toFixed(2).padStart(10)} (${takeoverBytes})` +
        `${inflate.toFixed(2).padStart(17)}  ${deflateReset.toFixed(2).padStart(16)} (${aloneBytes})` +
        `${deflateVaried.toFixed(2).padStart(18)} (${variedAverage}, ${((100 * variedAverage) / variedIn).toFixed(1)}%)`,
    );
    for (const zlib of [...deflaters, ...inflaters]) zlib.stream.destroy();
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});

/**
 * Sections 12 and 13 of the Autobahn testsuite: permessage-deflate (RFC 7692). 12.x sends
 * messages of many sizes (some auto-fragmented) from five kinds of data with the default offer;
 * 13.x sends JSON with seven different offers / acceptances. Message counts are reduced from
 * Autobahn's 1000 per case. The data sets are generated (deterministic), not Autobahn's files.
 */
import type { ConformanceCase, DeflateSetup } from "../case.js";
import type { FuzzSession } from "../fuzz-session.js";
import { binary, NORMAL_CLOSE, text } from "./dsl.js";

/** A small deterministic PRNG (xorshift32), so data sets are the same on every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const SET_SIZE = 256 * 1024;
const WORDS =
  "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there had been one all their would so if".split(
    " ",
  );

function prose(): Buffer {
  const next = random(1);
  let out = "";
  while (out.length < SET_SIZE) {
    const sentence: string[] = [];
    const words = 5 + Math.floor(next() * 15);
    for (let i = 0; i < words; i++) sentence.push(WORDS[Math.floor(next() * WORDS.length)]);
    out += `${sentence.join(" ")}.${next() < 0.2 ? "\n\n" : " "}`;
  }
  return Buffer.from(out.slice(0, SET_SIZE));
}

function bitmap(): Buffer {
  const next = random(2);
  const out = Buffer.alloc(SET_SIZE);
  let value = 0;
  for (let i = 0; i < SET_SIZE; ) {
    const run = 1 + Math.floor(next() * 40);
    out.fill(value, i, Math.min(SET_SIZE, i + run));
    i += run;
    value = (value + Math.floor(next() * 9) - 4) & 0xff;
  }
  return out;
}

function noisy(): Buffer {
  const next = random(3);
  const out = Buffer.alloc(SET_SIZE);
  for (let i = 0; i < SET_SIZE; i++)
    out[i] = next() < 0.7 ? Math.floor(next() * 256) : out[Math.max(0, i - 64)];
  return out;
}

function json(): Buffer {
  const next = random(4);
  const items: string[] = [];
  let length = 0;
  for (let id = 0; length < SET_SIZE; id++) {
    const item = JSON.stringify({
      id,
      name: `${WORDS[id % WORDS.length]}-${Math.floor(next() * 1e6)}`,
      tags: [WORDS[Math.floor(next() * WORDS.length)], WORDS[Math.floor(next() * WORDS.length)]],
      score: Math.round(next() * 1e4) / 100,
      active: next() < 0.5,
    });
    items.push(item);
    length += item.length + 1;
  }
  return Buffer.from(`[${items.join(",")}]`.slice(0, SET_SIZE));
}

function html(): Buffer {
  const next = random(5);
  let out = "<!doctype html><html><head><title>data</title></head><body>\n";
  while (out.length < SET_SIZE) {
    const words = Array.from({ length: 8 }, () => WORDS[Math.floor(next() * WORDS.length)]).join(
      " ",
    );
    out += `<div class="row r${Math.floor(next() * 20)}"><p>${words}</p><a href="/item/${Math.floor(next() * 1e5)}">more</a></div>\n`;
  }
  return Buffer.from(out.slice(0, SET_SIZE));
}

/** Autobahn's message sizes and auto-fragment sizes (counts reduced). */
const MSG_SIZES: Array<[size: number, fragment: number]> = [
  [16, 0],
  [64, 0],
  [256, 0],
  [1024, 0],
  [4096, 0],
  [8192, 0],
  [16384, 0],
  [32768, 0],
  [65536, 0],
  [131072, 0],
  [8192, 256],
  [16384, 256],
  [32768, 256],
  [65536, 256],
  [131072, 256],
  [131072, 1024],
  [131072, 4096],
  [131072, 32768],
];

/** Fewer messages for larger sizes: at least 3 (context takeover matters), at most 20. */
function countFor(size: number): number {
  return Math.max(3, Math.min(20, Math.round((128 * 1024) / size)));
}

/** Messages are consecutive slices of the data set, wrapping around. */
function slices(data: Buffer, size: number, count: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const end = at + size;
    out.push(
      end <= data.length
        ? data.subarray(at, end)
        : Buffer.concat([data.subarray(at), data.subarray(0, end - data.length)]),
    );
    at = end % data.length;
  }
  return out;
}

async function sendAndAwaitEchoes(
  s: FuzzSession,
  messages: Buffer[],
  isBinary: boolean,
  fragment: number,
) {
  for (const message of messages) {
    const before = s.events.length;
    await s.sendMessage(message, isBinary, fragment);
    if (!(await s.waitFor(() => s.events.length > before, 10000))) return;
  }
}

function compressionCase(
  id: string,
  description: string,
  deflate: DeflateSetup,
  data: Buffer,
  isBinary: boolean,
  size: number,
  fragment: number,
): ConformanceCase {
  const messages = slices(data, size, countFor(size));
  return {
    id,
    description: `${description}: ${messages.length} messages of ${size} bytes${fragment ? `, fragments of ${fragment}` : ""}`,
    expected: { ok: messages.map((m) => (isBinary ? binary(m) : text(m))) },
    expectedClose: NORMAL_CLOSE,
    deflate,
    timeoutMs: 30000,
    run: (s) => sendAndAwaitEchoes(s, messages, isBinary, fragment),
  };
}

const DEFAULT_OFFER = "permessage-deflate; client_no_context_takeover; client_max_window_bits";

const cases: ConformanceCase[] = [];

const dataSets: Array<[string, () => Buffer, boolean]> = [
  ["Prose text, sent as binary", prose, true],
  ["Bitmap-like runs, binary", bitmap, true],
  ["Noisy binary (poorly compressible)", noisy, true],
  ["JSON, sent as text", json, false],
  ["HTML, sent as text", html, false],
];
dataSets.forEach(([name, make, isBinary], j) => {
  const data = make();
  MSG_SIZES.forEach(([size, fragment], i) => {
    cases.push(
      compressionCase(
        `12.${j + 1}.${i + 1}`,
        `${name}, default offer`,
        { clientOffer: DEFAULT_OFFER, subjectClientOptions: {}, serverResponse: "accept" },
        data,
        isBinary,
        size,
        fragment,
      ),
    );
  });
});

/**
 * 13.x offers (fuzzing client) and acceptances (fuzzing server). `serverResponse` names what the
 * fuzzing server asks of the client: "accept" (nothing), "nct" (client_no_context_takeover),
 * "wbits=N" (client_max_window_bits=N), or both joined by "+".
 */
const offers: Array<[string, DeflateSetup]> = [
  [
    "default offer / plain accept",
    { clientOffer: DEFAULT_OFFER, subjectClientOptions: {}, serverResponse: "accept" },
  ],
  [
    "server_no_context_takeover / client_no_context_takeover",
    {
      clientOffer: `${DEFAULT_OFFER}; server_no_context_takeover`,
      subjectClientOptions: { serverNoContextTakeover: true, clientNoContextTakeover: true },
      serverResponse: "nct",
    },
  ],
  [
    "server_max_window_bits=8 / client_max_window_bits=8",
    {
      clientOffer: `${DEFAULT_OFFER}; server_max_window_bits=8`,
      subjectClientOptions: { serverMaxWindowBits: 8 },
      serverResponse: "wbits=8",
    },
  ],
  [
    "server_max_window_bits=15 / client_max_window_bits=15",
    {
      clientOffer: `${DEFAULT_OFFER}; server_max_window_bits=15`,
      subjectClientOptions: { serverMaxWindowBits: 15 },
      serverResponse: "wbits=15",
    },
  ],
  [
    "no context takeover and window 8 both ways",
    {
      clientOffer: `${DEFAULT_OFFER}; server_no_context_takeover; server_max_window_bits=8`,
      subjectClientOptions: {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 8,
      },
      serverResponse: "nct+wbits=8",
    },
  ],
  [
    "no context takeover and window 15 both ways",
    {
      clientOffer: `${DEFAULT_OFFER}; server_no_context_takeover; server_max_window_bits=15`,
      subjectClientOptions: {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 15,
      },
      serverResponse: "nct+wbits=15",
    },
  ],
  [
    "three offers, the first acceptable one wins (mirrored: the first offer only)",
    {
      clientOffer: [
        `${DEFAULT_OFFER}; server_no_context_takeover; server_max_window_bits=8`,
        `${DEFAULT_OFFER}; server_no_context_takeover`,
        DEFAULT_OFFER,
      ].join(", "),
      subjectClientOptions: {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 8,
      },
      serverResponse: "nct+wbits=8",
    },
  ],
];
const jsonData = json();
offers.forEach(([name, setup], j) => {
  MSG_SIZES.forEach(([size, fragment], i) => {
    cases.push(
      compressionCase(
        `13.${j + 1}.${i + 1}`,
        `JSON, ${name}`,
        setup,
        jsonData,
        false,
        size,
        fragment,
      ),
    );
  });
});

/** Sections 12 and 13. */
export const compressionCases = cases;

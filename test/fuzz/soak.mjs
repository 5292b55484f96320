// The larger fuzz campaign, for the soak run: every test/fuzz suite with its run counts
// multiplied and a fresh seed (printed first, so a failure can be replayed with
// `DUPLEXIO_FUZZ_SEED=<seed> DUPLEXIO_FUZZ_RUNS=<multiplier> node test/run.mjs test/fuzz/`).
//
//   node test/fuzz/soak.mjs [--runs 20] [--seed N] [--report file.tsv] [filter...]
//
// --runs multiplies every property's `npm test` count (default 20); --seed fixes the seed
// (default: random); --report appends one line per property (file, property, runs, ms);
// filters pick suites by path, as test/run.mjs does (default: the whole folder).
// Exits with the test runner's status.
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const args = process.argv.slice(2);
let runs = "20";
let seed = String(randomInt(1, 2 ** 31 - 1));
let report;
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runs") runs = args[++i];
  else if (args[i] === "--seed") seed = args[++i];
  else if (args[i] === "--report") report = resolve(args[++i]);
  else filters.push(args[i]);
}
if (!(Number(runs) > 0)) {
  console.error(`--runs must be a positive number, got ${runs}`);
  process.exit(2);
}

console.log(`fuzz soak: DUPLEXIO_FUZZ_RUNS=${runs} DUPLEXIO_FUZZ_SEED=${seed}`);
const env = { ...process.env, DUPLEXIO_FUZZ_RUNS: runs, DUPLEXIO_FUZZ_SEED: seed };
if (report) env.DUPLEXIO_FUZZ_REPORT = report;
const result = spawnSync(
  process.execPath,
  [join(root, "test", "run.mjs"), ...(filters.length > 0 ? filters : ["test/fuzz/"])],
  { cwd: root, env, stdio: "inherit" },
);
process.exit(result.status ?? 1);

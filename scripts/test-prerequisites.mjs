// Checks that the Debian packages the tests need are installed, and installs the missing ones
// with apt-get when it can: as root, or through passwordless sudo (`sudo -n`). Otherwise it stops
// (exit code 1) printing the command to run. `npm test` runs it first (package.json "pretest").
//
//   node scripts/test-prerequisites.mjs
//
// Plain Node, no dependencies: it runs before `npm run build`. To need another package, add one
// row to PREREQUISITES.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";

/**
 * What the tests need: the Debian package, and how to tell it is installed, one of
 *   program: an absolute path that must be an executable file,
 *   file:    an absolute path that must exist,
 *   python:  a module that Debian's /usr/bin/python3 must import.
 */
const PREREQUISITES = [
  // Chromium's own WebSocket, driven through playwright-core (test/helpers/chromium.ts).
  { package: "chromium", program: "/usr/bin/chromium" },
  // Python peers (test/helpers/python.ts runs /usr/bin/python3).
  { package: "python3", program: "/usr/bin/python3" },
  { package: "python3-websockets", python: "websockets" },
  { package: "python3-socketio", python: "socketio" },
  { package: "python3-aiohttp", python: "aiohttp" },
  { package: "python3-requests", python: "requests" },
  { package: "python3-websocket", python: "websocket" },
  // Real Redis servers and clusters (test/helpers/redis.ts); redis-cli creates the clusters.
  { package: "redis-server", program: "/usr/bin/redis-server" },
  { package: "redis-tools", program: "/usr/bin/redis-cli" },
  // Certificates for the TLS tests (test/client/node/tls-certs.ts).
  { package: "openssl", program: "/usr/bin/openssl" },
  // A round-robin load balancer in front of several nodes (test/examples/nginx.test.ts).
  { package: "nginx", program: "/usr/sbin/nginx" },
];

const PYTHON = "/usr/bin/python3";
const APT_GET = "/usr/bin/apt-get";
const POLICY_RC_D = "/usr/sbin/policy-rc.d";

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Python modules (of `names`) that /usr/bin/python3 cannot import, each checked on its own. */
function missingPythonModules(names) {
  if (names.length === 0) return [];
  if (!isExecutable(PYTHON)) return names;
  const check = [
    "import importlib, sys",
    "for name in sys.argv[1:]:",
    "    try:",
    "        importlib.import_module(name)",
    "    except Exception:",
    "        print(name)",
  ].join("\n");
  // -I: what Debian's interpreter has, ignoring PYTHONPATH and the user's site-packages.
  const run = spawnSync(PYTHON, ["-I", "-c", check, ...names], {
    encoding: "utf8",
    timeout: 60000,
  });
  if (run.status !== 0) return names;
  return run.stdout.split("\n").filter((name) => names.includes(name));
}

/** The rows of PREREQUISITES whose check fails. */
function missingPrerequisites() {
  const pythonMissing = new Set(
    missingPythonModules(PREREQUISITES.filter((row) => row.python).map((row) => row.python)),
  );
  return PREREQUISITES.filter((row) => {
    if (row.program) return !isExecutable(row.program);
    if (row.file) return !existsSync(row.file);
    if (row.python) return pythonMissing.has(row.python);
    throw new Error(`test-prerequisites: row ${row.package} has no check`);
  });
}

/** What a row checks, for people. */
function describe(row) {
  if (row.program) return row.program;
  if (row.file) return row.file;
  return `python3 module ${row.python} (${PYTHON})`;
}

/** [] when root, ["sudo", "-n"] when sudo needs no password, null otherwise. */
function privilegePrefix() {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync("sudo", ["-n", "true"], { stdio: "ignore", timeout: 30000 });
  return sudo.status === 0 ? ["sudo", "-n"] : null;
}

// Run as root (directly or through sudo). While it installs, a policy-rc.d that answers 101
// ("action forbidden") keeps Debian's maintainer scripts from starting services (redis-server's);
// it is created only if there is none, and removed afterwards, on failure too.
const INSTALL_SCRIPT = `
policy=${POLICY_RC_D}
if (set -C; printf '#!/bin/sh\\n# Temporary, from duplexio scripts/test-prerequisites.mjs: no service starts during its apt-get install.\\nexit 101\\n' > "$policy") 2>/dev/null; then
  trap 'rm -f "$policy"' EXIT
  trap 'exit 130' INT TERM HUP
  chmod 755 "$policy"
fi
export DEBIAN_FRONTEND=noninteractive
${APT_GET} -o DPkg::Lock::Timeout=300 update || echo "test-prerequisites: apt-get update failed; trying the install anyway" >&2
${APT_GET} -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@"
`;

function fail(message) {
  console.error(message);
  process.exit(1);
}

const missing = missingPrerequisites();
if (missing.length === 0) {
  console.log(`test prerequisites: all ${PREREQUISITES.length} present`);
  process.exit(0);
}

const packages = missing.map((row) => row.package);
if (!existsSync(APT_GET)) {
  fail(
    `duplexio tests need these, and there is no ${APT_GET} to install them:\n` +
      missing.map((row) => `  ${describe(row)}  (Debian package ${row.package})`).join("\n"),
  );
}

const prefix = privilegePrefix();
if (prefix === null) {
  const install = `apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  fail(
    `duplexio tests need: ${packages.join(" ")}\n` +
      `Run: sudo apt-get update && sudo ${install}\n` +
      "(or run npm test as root, or with passwordless sudo, and it installs them itself)",
  );
}

console.log(`test prerequisites: installing ${packages.join(" ")} with apt-get`);
const [command, ...args] = [...prefix, "/bin/sh", "-c", INSTALL_SCRIPT, "sh", ...packages];
const install = spawnSync(command, args, { stdio: "inherit" });
if (install.error) fail(`test-prerequisites: could not run ${command}: ${install.error.message}`);
if (install.status !== 0) {
  fail(
    `test-prerequisites: apt-get install ${packages.join(" ")} failed ` +
      `(exit ${install.status ?? install.signal})`,
  );
}

const stillMissing = missingPrerequisites();
if (stillMissing.length > 0) {
  fail(
    "test-prerequisites: still missing after apt-get install:\n" +
      stillMissing.map((row) => `  ${describe(row)}  (Debian package ${row.package})`).join("\n"),
  );
}
console.log(`test prerequisites: installed ${packages.join(" ")}`);

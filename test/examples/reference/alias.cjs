// Preloaded (node --require) into an example process to make `require("duplexio")` and
// `import ... from "duplexio"` load duplexio-as-socket-io.cjs: only for the reference run of the
// example suites, so the examples stay exactly as a user runs them.
const Module = require("node:module");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const target = join(__dirname, "duplexio-as-socket-io.cjs");
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveDuplexio(request, ...rest) {
  return resolveFilename.call(this, request === "duplexio" ? target : request, ...rest);
};
Module.register("./alias-hooks.mjs", pathToFileURL(__filename), {
  data: pathToFileURL(target).href,
});

// ES module resolution hook for alias.cjs: "duplexio" -> the socket.io shim.
let target;

export function initialize(data) {
  target = data;
}

export async function resolve(specifier, context, next) {
  if (specifier === "duplexio") return { url: target, shortCircuit: true };
  return next(specifier, context);
}

// What `duplexio` resolves to in the example processes when the suites check themselves against the
// socket.io package (DUPLEXIO_TEST_SUBJECT=socket.io): socket.io's Server, plus the top-level
// listen/attach helpers duplexio adds (socket.io v4 dropped them; its Server has them as methods).
const { Server } = require("socket.io");

exports.Server = Server;
exports.listen = (server, options) => new Server(server, options);
exports.attach = (server, options) => new Server(server, options);

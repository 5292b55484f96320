// What `duplexio` resolves to in the example processes when the suites check themselves against the
// socket.io package (DUPLEXIO_TEST_SUBJECT=socket.io): socket.io's Server, plus the top-level
// listen/attach helpers duplexio adds (socket.io v4 dropped them; its Server has them as methods).
const socketIo = require("socket.io");

const { Server } = socketIo;
// socket.io's module object is itself a function making a server: `require("socket.io")(srv)`.
module.exports = (server, options) => socketIo(server, options);
module.exports.Server = Server;
module.exports.listen = (server, options) => new Server(server, options);
module.exports.attach = (server, options) => new Server(server, options);

/** The `ws` package's client against the WebSocketServer under test (matrix in ws-matrix.ts). */
import { defineMatrix } from "./ws-matrix.js";

defineMatrix("ws client -> subject server");

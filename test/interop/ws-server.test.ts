/** The WebSocket client under test against the `ws` package's server (matrix in ws-matrix.ts). */
import { defineMatrix } from "./ws-matrix.js";

defineMatrix("subject client -> ws server");

/**
 * The demo server (`duplexio serve`): a chat, a plain WebSocket panel and a live dashboard on one
 * HTTP server. See server.ts for the map of paths, and examples/chat/README.md for the tour.
 * @module
 */

export type { Chat, ChatOptions, DemoIo, RateLimit } from "./chat.js";
export type { ChatMessage, DashboardSnapshot, Presence, Reply } from "./events.js";
export { DemoMetrics } from "./metrics.js";
export { PLAIN_WEBSOCKET_PATH, SUPPORTED_SUBPROTOCOLS } from "./plain-websocket.js";
export { TokenBucket, type TokenBucketOptions } from "./rate-limit.js";
export { type DemoServer, type DemoServerOptions, startDemoServer } from "./server.js";

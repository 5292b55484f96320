/**
 * The Engine.IO v4 client: {@link EngineClient} and what configures it.
 * @module
 */

export {
  EngineClient,
  type EngineClientEventMap,
  type EngineCloseReason,
  type EngineReadyState,
  type EngineTransportInfo,
} from "./engine-client.js";
export {
  DEFAULT_ENGINE_OPTIONS,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  type EngineClientOptions,
  type EngineTimers,
  type FetchInitLike,
  type FetchLike,
  type FetchResponseLike,
  type ScopedFetch,
  type TimerHandle,
  type TransportName,
} from "./options.js";
export { type TransportCloseDetails, TransportError } from "./transport.js";
export type {
  WebSocketClientOptionsLike,
  WebSocketCloseEventLike,
  WebSocketConstructorLike,
  WebSocketLike,
  WebSocketMessageEventLike,
} from "./websocket-like.js";

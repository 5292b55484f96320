/**
 * The figures of the dashboard and of /metrics, taken from one place so both always agree.
 *
 * `sample()` is called once per dashboard interval: it turns the traffic counters into rates
 * (the difference since the previous sample) and closes an event-loop-delay window. Prometheus
 * gets the cumulative counters instead of rates, as is idiomatic (`rate()` is computed by
 * Prometheus from two scrapes), and gauges read when scraped; the event-loop delay exported is
 * that of the last completed window.
 * @module
 */

import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Adapter } from "../server/index.js";
import type { DemoIo } from "./chat.js";
import type { ClusterView } from "./cluster.js";
import { type DashboardSnapshot, MAX_ROOMS_IN_SNAPSHOT } from "./events.js";
import { formatPrometheus } from "./prometheus.js";
import type { TrafficCounter, TrafficTotals } from "./traffic.js";

/** What the figures are read from. */
export interface MetricsSources {
  io: DemoIo;
  traffic: TrafficCounter;
  /** How many plain WebSocket clients are connected. */
  plainWebSocketClients: () => number;
  /** The servers sharing the chat. */
  cluster: ClusterView;
  /** This server's chat address (known once it listens). */
  url: () => string;
}

// Any namespace of the demo server, whatever its event types: only its sockets and rooms are read.
interface AnyNamespace {
  readonly name: string;
  readonly sockets: { readonly size: number };
  readonly adapter: Pick<Adapter, "rooms" | "sids">;
}

/**
 * The event-loop monitor's timer period. Finer costs more wake-ups for a figure the page rounds
 * anyway. The histogram records the time between two runs of that timer, so the period itself is
 * subtracted to get the delay.
 */
const EVENT_LOOP_RESOLUTION_MS = 10;

/** Nanoseconds between two monitor timer runs -> milliseconds of delay. */
function delayMs(nanoseconds: number): number {
  return Math.max(0, nanoseconds / 1e6 - EVENT_LOOP_RESOLUTION_MS);
}

/** See the module comment. */
export class DemoMetrics {
  readonly #sources: MetricsSources;
  readonly #namespaces = new Set<AnyNamespace>();
  readonly #startedAt = performance.now();
  readonly #eventLoop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  #previousTotals: TrafficTotals;
  #previousSampleAt: number;
  #latest: DashboardSnapshot;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    this.#eventLoop.enable();
    this.#namespaces.add(sources.io.sockets);
    sources.io.on("new_namespace", (namespace) => this.#namespaces.add(namespace));
    this.#previousTotals = sources.traffic.totals();
    this.#previousSampleAt = performance.now();
    this.#latest = this.#snapshot(this.#previousTotals, 0, { mean: 0, p99: 0, max: 0 });
  }

  /** The last snapshot taken by {@link sample}. */
  get latest(): DashboardSnapshot {
    return this.#latest;
  }

  /** Takes a snapshot: rates since the previous one, event-loop delay over the same window. */
  sample(): DashboardSnapshot {
    const now = performance.now();
    const totals = this.#sources.traffic.totals();
    const elapsedSeconds = (now - this.#previousSampleAt) / 1000;
    const histogram = this.#eventLoop;
    // Empty (a NaN mean) until the monitor's timer first ran.
    const eventLoopDelayMs =
      histogram.count === 0
        ? { mean: 0, p99: 0, max: 0 }
        : {
            mean: delayMs(histogram.mean),
            p99: delayMs(histogram.percentile(99)),
            max: delayMs(histogram.max),
          };
    histogram.reset();
    this.#latest = this.#snapshot(totals, elapsedSeconds, eventLoopDelayMs);
    this.#previousTotals = totals;
    this.#previousSampleAt = now;
    return this.#latest;
  }

  /** Stops the event-loop monitor. */
  close(): void {
    this.#eventLoop.disable();
  }

  #snapshot(
    totals: TrafficTotals,
    elapsedSeconds: number,
    eventLoopDelayMs: DashboardSnapshot["eventLoopDelayMs"],
  ): DashboardSnapshot {
    const previous = this.#previousTotals;
    const perSecond = (current: number, before: number): number =>
      elapsedSeconds > 0 ? Math.round((current - before) / elapsedSeconds) : 0;
    const messagesIn = totals.socketIoMessagesIn + totals.plainWebSocketMessagesIn;
    const messagesOut = totals.socketIoMessagesOut + totals.plainWebSocketMessagesOut;
    const memory = process.memoryUsage();
    const clients = {
      ...this.#clientsByTransport(),
      plainWebSocket: this.#sources.plainWebSocketClients(),
    };
    const messagesOutPerSecond = perSecond(
      messagesOut,
      previous.socketIoMessagesOut + previous.plainWebSocketMessagesOut,
    );
    const cluster = this.#sources.cluster.snapshot({
      id: this.#sources.cluster.id,
      url: this.#sources.url(),
      clients: clients.polling + clients.websocket + clients.plainWebSocket,
      messagesOutPerSecond,
      rss: memory.rss,
    });
    return {
      at: Date.now(),
      uptimeSeconds: Math.round((performance.now() - this.#startedAt) / 1000),
      clients,
      namespaces: [...this.#namespaces].map(describeNamespace),
      rates: {
        messagesIn: perSecond(
          messagesIn,
          previous.socketIoMessagesIn + previous.plainWebSocketMessagesIn,
        ),
        messagesOut: messagesOutPerSecond,
        bytesIn: perSecond(totals.bytesIn, previous.bytesIn),
        bytesOut: perSecond(totals.bytesOut, previous.bytesOut),
      },
      totals: { messagesIn, messagesOut, bytesIn: totals.bytesIn, bytesOut: totals.bytesOut },
      memory: { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal },
      eventLoopDelayMs,
      cluster,
    };
  }

  /** Engine.IO connections by the transport they use now (polling until they upgrade). */
  #clientsByTransport(): { polling: number; websocket: number } {
    let polling = 0;
    let websocket = 0;
    for (const connection of this.#sources.io.engine.clients.values()) {
      if (connection.transport.name === "websocket") websocket++;
      else polling++;
    }
    return { polling, websocket };
  }

  /** The figures in Prometheus' text format, read now (see the module comment). */
  prometheusText(): string {
    const sources = this.#sources;
    const clients = this.#clientsByTransport();
    const totals = sources.traffic.totals();
    const memory = process.memoryUsage();
    const { cluster, eventLoopDelayMs } = this.#latest;
    const namespaces = [...this.#namespaces];
    return formatPrometheus([
      {
        name: "duplexio_connected_clients",
        help: "Connected clients: Socket.IO ones by transport, and plain WebSocket ones",
        type: "gauge",
        samples: [
          { labels: { transport: "polling" }, value: clients.polling },
          { labels: { transport: "websocket" }, value: clients.websocket },
          { labels: { transport: "plain_websocket" }, value: sources.plainWebSocketClients() },
        ],
      },
      {
        name: "duplexio_namespace_sockets",
        help: "Sockets connected to each Socket.IO namespace",
        type: "gauge",
        samples: namespaces.map((nsp) => ({
          labels: { namespace: nsp.name },
          value: nsp.sockets.size,
        })),
      },
      {
        name: "duplexio_namespace_rooms",
        help: "Rooms of each Socket.IO namespace (the private per-socket rooms left out)",
        type: "gauge",
        samples: namespaces.map((nsp) => ({
          labels: { namespace: nsp.name },
          value: describeNamespace(nsp).roomCount,
        })),
      },
      // The hot path increments plain numbers (traffic.ts), read only when scraped.
      {
        name: "duplexio_messages_received_total",
        help: "Messages received from clients",
        type: "counter",
        samples: [
          { labels: { endpoint: "socket.io" }, value: totals.socketIoMessagesIn },
          { labels: { endpoint: "plain_websocket" }, value: totals.plainWebSocketMessagesIn },
        ],
      },
      {
        name: "duplexio_messages_sent_total",
        help: "Messages sent to clients",
        type: "counter",
        samples: [
          { labels: { endpoint: "socket.io" }, value: totals.socketIoMessagesOut },
          { labels: { endpoint: "plain_websocket" }, value: totals.plainWebSocketMessagesOut },
        ],
      },
      {
        name: "duplexio_bytes_received_total",
        help: "Bytes read from TCP connections",
        type: "counter",
        samples: [{ value: totals.bytesIn }],
      },
      {
        name: "duplexio_bytes_sent_total",
        help: "Bytes written to TCP connections",
        type: "counter",
        samples: [{ value: totals.bytesOut }],
      },
      {
        name: "duplexio_process_memory_bytes",
        help: "Memory of the server process (process.memoryUsage())",
        type: "gauge",
        samples: [
          { labels: { kind: "rss" }, value: memory.rss },
          { labels: { kind: "heap_used" }, value: memory.heapUsed },
          { labels: { kind: "heap_total" }, value: memory.heapTotal },
        ],
      },
      {
        name: "duplexio_cluster_nodes",
        help: "Servers of the cluster this one has heard from recently, itself included",
        type: "gauge",
        samples: [{ value: cluster.nodes.length }],
      },
      {
        name: "duplexio_adapter_up",
        help: "Whether the link to the other servers (Redis) is up: 1 up, 0 down (1 for one server)",
        type: "gauge",
        samples: [{ value: cluster.state === "down" ? 0 : 1 }],
      },
      {
        name: "duplexio_adapter_messages_total",
        help: "Messages exchanged with the other servers of the cluster",
        type: "counter",
        samples: [
          { labels: { kind: "published" }, value: cluster.crossNode.published },
          { labels: { kind: "received" }, value: cluster.crossNode.received },
          { labels: { kind: "dropped" }, value: cluster.crossNode.dropped },
        ],
      },
      {
        name: "duplexio_event_loop_delay_seconds",
        help: "Event-loop delay over the last dashboard interval (perf_hooks.monitorEventLoopDelay)",
        type: "gauge",
        samples: [
          { labels: { stat: "mean" }, value: eventLoopDelayMs.mean / 1000 },
          { labels: { stat: "p99" }, value: eventLoopDelayMs.p99 / 1000 },
          { labels: { stat: "max" }, value: eventLoopDelayMs.max / 1000 },
        ],
      },
    ]);
  }
}

/** A namespace's sockets and rooms; a room named after a connected socket's id is private. */
function describeNamespace(nsp: AnyNamespace): DashboardSnapshot["namespaces"][number] {
  const { rooms, sids } = nsp.adapter;
  const shared: { name: string; members: number }[] = [];
  for (const [room, members] of rooms) {
    if (typeof room === "string" && sids.has(room)) continue;
    shared.push({ name: String(room), members: members.size });
  }
  shared.sort((a, b) => b.members - a.members || a.name.localeCompare(b.name));
  return {
    name: nsp.name,
    sockets: nsp.sockets.size,
    rooms: shared.slice(0, MAX_ROOMS_IN_SNAPSHOT),
    roomCount: shared.length,
  };
}

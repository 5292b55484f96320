/**
 * The live dashboard's feed: the "/dashboard" namespace, where the server pushes a snapshot of its
 * figures (see metrics.ts) every interval. The dashboard page is itself a duplexio client, so it
 * shows up in the figures it displays: one more connection, one more message out per second.
 * @module
 */

import type { DemoIo } from "./chat.js";
import type { ClusterView } from "./cluster.js";
import type { DemoMetrics } from "./metrics.js";

/** The namespace of the dashboard feed. */
export const DASHBOARD_NAMESPACE = "/dashboard";

/** The running feed; `close()` stops the timer. */
export interface DashboardFeed {
  close(): void;
}

/** Samples the figures every `intervalMs` and pushes them to the dashboard namespace. */
export function attachDashboard(
  io: DemoIo,
  metrics: DemoMetrics,
  cluster: ClusterView,
  intervalMs: number,
): DashboardFeed {
  const dashboard = io.of(DASHBOARD_NAMESPACE);
  // A page that just opened gets the latest figures at once instead of a blank second.
  dashboard.on("connection", (socket) => socket.emit("snapshot", metrics.latest));
  // Sampling goes on with nobody watching: /metrics reads the event-loop window it closes.
  const timer = setInterval(() => {
    const snapshot = metrics.sample();
    // The other servers of a cluster list this one on their dashboards.
    cluster.announce(snapshot.cluster.nodes[0]!);
    // Volatile: a snapshot a slow client could not take now is stale by the next one, so it is
    // dropped rather than queued (and never replayed by connection state recovery). Local: each
    // server's dashboard shows that server.
    dashboard.local.volatile.emit("snapshot", snapshot);
  }, intervalMs);
  return { close: () => clearInterval(timer) };
}

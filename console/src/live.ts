// The console's one live connection: the stream client, the fleet state it
// feeds, the recent events, and a bus for views that refresh on events.
import { get } from './api';
import { FleetState, METRIC } from './state';
import { StreamClient, streamURL, type StreamState } from './stream';
import type { Agent, HostStatus, MetricBucket, StreamEvent } from './types';

type Listener = (e: StreamEvent) => void;

// One render per animation frame, however many events arrive in it.
const perFrame = (f: () => void) => (typeof requestAnimationFrame === 'function' ? requestAnimationFrame(() => f()) : setTimeout(f, 0));

export class Live {
  fleet = new FleetState(perFrame);
  events: StreamEvent[] = [];
  streamState: StreamState = 'closed';
  private bus = new Set<Listener>();
  private stateListeners = new Set<() => void>();
  private client?: StreamClient;
  private metricsTimer?: ReturnType<typeof setTimeout>;
  private lastMetrics = 0;
  loadError = '';

  constructor(private schedule: (f: () => void) => void = perFrame) {}

  on(f: Listener): () => void {
    this.bus.add(f);
    return () => this.bus.delete(f);
  }

  onState(f: () => void): () => void {
    this.stateListeners.add(f);
    return () => this.stateListeners.delete(f);
  }

  private stateScheduled = false;

  /** Tells the views once per frame that the stream's state or events changed. */
  private notifyState() {
    if (this.stateScheduled) return;
    this.stateScheduled = true;
    this.schedule(() => {
      this.stateScheduled = false;
      for (const f of this.stateListeners) f();
    });
  }

  start(token: string) {
    this.client?.stop();
    this.client = new StreamClient({
      url: streamURL(location),
      token,
      onEvent: (e) => this.handle(e),
      onState: (s) => {
        this.streamState = s;
        this.notifyState();
      },
      onResync: () => void this.reload(),
    });
    this.client.start();
    void this.reload();
  }

  stop() {
    this.client?.stop();
    this.client = undefined;
  }

  get received() {
    return this.client?.received ?? 0;
  }

  /** Applies one stream event (the stream client calls it). */
  handle(e: StreamEvent) {
    if (e.type !== 'hello') {
      this.events.unshift(e);
      if (this.events.length > 200) this.events.length = 200;
    }
    this.fleet.apply(e);
    if (e.type === 'metrics.updated') this.scheduleMetrics();
    for (const f of this.bus) f(e);
    this.notifyState();
  }

  /** Loads the snapshot the stream then keeps current. */
  async reload() {
    try {
      const [h, a] = await Promise.all([get<{ hosts: HostStatus[] }>('/api/v1/hosts'), get<{ agents: Agent[] }>('/api/v1/agents')]);
      this.fleet.load(h.hosts ?? [], a.agents ?? []);
      this.loadError = '';
      await this.loadMetrics();
    } catch (err) {
      this.loadError = String((err as Error).message ?? err);
      this.notifyState();
    }
  }

  /** Fleet-wide figures, at most every 5 s however many agents report. */
  private scheduleMetrics() {
    if (this.metricsTimer) return;
    const wait = Math.max(0, 5000 - (Date.now() - this.lastMetrics));
    this.metricsTimer = setTimeout(() => {
      this.metricsTimer = undefined;
      void this.loadMetrics();
    }, wait);
  }

  async loadMetrics() {
    this.lastMetrics = Date.now();
    const names = Object.values(METRIC);
    const res = await Promise.all(
      names.map((n) => get<{ buckets: MetricBucket[] }>('/api/v1/metrics/series?since=5m&name=' + encodeURIComponent(n)).catch(() => ({ buckets: [] as MetricBucket[] }))),
    );
    this.fleet.applyMetrics(res.flatMap((r) => r.buckets ?? []));
  }
}

export const live = new Live();

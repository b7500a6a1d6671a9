// The client of /api/v1/stream: one WebSocket, authenticated with the API
// token carried in a WebSocket subprotocol (browsers cannot set an
// Authorization header on a WebSocket, and a token in the URL would end up
// in logs and history). It reconnects with backoff and tells the views to
// reload their snapshot after a gap, since events sent meanwhile are lost.
import type { StreamEvent } from './types';

/** The subprotocol the server selects; the token travels in a second one. */
export const STREAM_PROTOCOL = 'phoenix.stream.v1';
export const TOKEN_PROTOCOL_PREFIX = 'phoenix.bearer.';

/** base64url without padding: only characters a subprotocol may carry. */
export function base64url(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function streamProtocols(token: string): string[] {
  return [STREAM_PROTOCOL, TOKEN_PROTOCOL_PREFIX + base64url(token)];
}

export type StreamState = 'connecting' | 'open' | 'closed';

export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
  readonly protocol: string;
}

export interface StreamOptions {
  url: string;
  token: string;
  onEvent: (e: StreamEvent) => void;
  onState?: (s: StreamState) => void;
  /** Called after a reconnect or a stream.resync: events were missed, reload. */
  onResync?: () => void;
  newSocket?: (url: string, protocols: string[]) => WebSocketLike;
  setTimer?: (f: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
  minDelay?: number;
  maxDelay?: number;
}

/** Parses one stream message; anything that is not an event object is dropped. */
export function parseEvent(data: unknown): StreamEvent | undefined {
  if (typeof data !== 'string') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || typeof (v as StreamEvent).type !== 'string') return undefined;
  return v as StreamEvent;
}

export class StreamClient {
  private ws?: WebSocketLike;
  private timer?: unknown;
  private stopped = false;
  private attempt = 0;
  private everOpened = false;
  state: StreamState = 'closed';
  /** Messages received, for the console's status line and tests. */
  received = 0;

  constructor(private o: StreamOptions) {}

  /** Delay before reconnect attempt n (1-based): doubling, capped. */
  static delay(n: number, min = 500, max = 15000): number {
    return Math.min(max, min * 2 ** Math.max(0, n - 1));
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.timer !== undefined) (this.o.clearTimer ?? clearTimeout)(this.timer as number);
    this.timer = undefined;
    this.ws?.close(1000, 'console closed');
    this.ws = undefined;
    this.setState('closed');
  }

  private setState(s: StreamState) {
    if (this.state === s) return;
    this.state = s;
    this.o.onState?.(s);
  }

  private connect() {
    this.setState('connecting');
    const mk = this.o.newSocket ?? ((u, p) => new WebSocket(u, p) as unknown as WebSocketLike);
    const ws = mk(this.o.url, streamProtocols(this.o.token));
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.setState('open');
      if (this.everOpened) this.o.onResync?.();
      this.everOpened = true;
    };
    ws.onmessage = (m) => {
      if (this.ws !== ws) return;
      const e = parseEvent(m.data);
      if (!e) return;
      this.received++;
      if (e.type === 'hello') this.attempt = 0;
      // The server dropped events for us (we read too slowly): what we show
      // may be stale, so re-read it as after a reconnect.
      if (e.type === 'stream.resync') this.o.onResync?.();
      this.o.onEvent(e);
    };
    ws.onerror = () => {};
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.setState('closed');
      if (this.stopped) return;
      this.attempt++;
      const d = StreamClient.delay(this.attempt, this.o.minDelay, this.o.maxDelay);
      this.timer = (this.o.setTimer ?? setTimeout)(() => {
        this.timer = undefined;
        if (!this.stopped) this.connect();
      }, d);
    };
  }
}

/** The stream's URL for a page served at origin (http -> ws, https -> wss). */
export function streamURL(loc: { protocol: string; host: string }, query = ''): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/api/v1/stream${query ? '?' + query : ''}`;
}

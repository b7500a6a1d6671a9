import { describe, expect, it } from 'vitest';
import { base64url, parseEvent, StreamClient, streamProtocols, streamURL, type WebSocketLike } from './stream';
import type { StreamEvent } from './types';

class FakeSocket implements WebSocketLike {
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  protocol = '';
  closed = false;
  constructor(public url: string, public protocols: string[]) {}
  close() {
    this.closed = true;
  }
  open() {
    this.protocol = this.protocols[0];
    this.onopen?.({});
  }
  send(data: unknown) {
    this.onmessage?.({ data });
  }
  drop() {
    this.onclose?.({ code: 1006, reason: '' });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: { f: () => void; ms: number }[] = [];
  const events: StreamEvent[] = [];
  const states: string[] = [];
  let resyncs = 0;
  const c = new StreamClient({
    url: 'ws://h/api/v1/stream',
    token: 'secret token/+=',
    onEvent: (e) => events.push(e),
    onState: (s) => states.push(s),
    onResync: () => resyncs++,
    newSocket: (u, p) => {
      const s = new FakeSocket(u, p);
      sockets.push(s);
      return s;
    },
    setTimer: (f, ms) => timers.push({ f, ms }),
    clearTimer: () => {},
  });
  return { c, sockets, timers, events, states, resyncs: () => resyncs };
}

describe('stream client', () => {
  it('carries the token in a subprotocol, never in the URL', () => {
    const { c, sockets } = setup();
    c.start();
    expect(sockets[0].url).toBe('ws://h/api/v1/stream');
    expect(sockets[0].url).not.toContain('secret');
    expect(sockets[0].protocols).toEqual(streamProtocols('secret token/+='));
    const tok = sockets[0].protocols[1];
    expect(tok).toMatch(/^phoenix\.bearer\.[A-Za-z0-9_-]+$/);
    expect(atob(tok.slice('phoenix.bearer.'.length).replace(/-/g, '+').replace(/_/g, '/'))).toBe('secret token/+=');
  });
  it('delivers events, drops malformed messages', () => {
    const { c, sockets, events } = setup();
    c.start();
    sockets[0].open();
    sockets[0].send(JSON.stringify({ type: 'hello', time: 't' }));
    sockets[0].send('not json');
    sockets[0].send(JSON.stringify({ no: 'type' }));
    sockets[0].send(JSON.stringify({ type: 'agent.updated', time: 't', host: '<img src=x onerror=alert(1)>' }));
    expect(events.map((e) => e.type)).toEqual(['hello', 'agent.updated']);
    expect(c.received).toBe(2);
  });
  it('reconnects with doubling backoff and asks for a resync after a gap', () => {
    const { c, sockets, timers, states, resyncs } = setup();
    c.start();
    sockets[0].open();
    expect(resyncs()).toBe(0);
    sockets[0].drop();
    expect(timers.map((t) => t.ms)).toEqual([500]);
    timers[0].f();
    sockets[1].drop(); // refused again
    expect(timers.map((t) => t.ms)).toEqual([500, 1000]);
    timers[1].f();
    sockets[2].open();
    expect(resyncs()).toBe(1);
    sockets[2].send(JSON.stringify({ type: 'hello', time: 't' }));
    sockets[2].drop();
    expect(timers[2].ms).toBe(500); // a hello resets the backoff
    expect(states).toEqual(['connecting', 'open', 'closed', 'connecting', 'closed', 'connecting', 'open', 'closed']);
  });
  it('asks for a resync when the server says it dropped events for us', () => {
    const { c, sockets, events, resyncs } = setup();
    c.start();
    sockets[0].open();
    sockets[0].send(JSON.stringify({ type: 'agent.updated', time: 't' }));
    expect(resyncs()).toBe(0);
    sockets[0].send(JSON.stringify({ type: 'stream.resync', time: 't', data: { dropped: 12 } }));
    expect(resyncs()).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['agent.updated', 'stream.resync']);
  });
  it('stops for good', () => {
    const { c, sockets, timers } = setup();
    c.start();
    sockets[0].open();
    c.stop();
    expect(sockets[0].closed).toBe(true);
    sockets[0].drop();
    expect(timers.length).toBe(0);
  });
  it('backoff is capped', () => {
    expect(StreamClient.delay(1)).toBe(500);
    expect(StreamClient.delay(4)).toBe(4000);
    expect(StreamClient.delay(20)).toBe(15000);
  });
  it('helpers', () => {
    expect(base64url('\u00ff\u00fe')).toBe('w7_Dvg');
    expect(parseEvent(42)).toBeUndefined();
    expect(streamURL({ protocol: 'https:', host: 'x:1' })).toBe('wss://x:1/api/v1/stream');
    expect(streamURL({ protocol: 'http:', host: 'x' }, 'types=agent.updated')).toBe('ws://x/api/v1/stream?types=agent.updated');
  });
});

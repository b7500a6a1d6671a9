import { describe, expect, it } from 'vitest';
import { Live } from './live';
import type { StreamEvent } from './types';

describe('Live', () => {
  it('tells the views once per frame however many events arrive', () => {
    const frames: (() => void)[] = [];
    const l = new Live((f) => frames.push(f));
    let n = 0;
    l.onState(() => n++);
    for (let i = 0; i < 500; i++) {
      l.handle({ type: 'agent.updated', time: '', data: { instance_uid: 'u' + i, host_name: 'h' + i, connected: true } } as StreamEvent);
    }
    expect(frames.length).toBe(1);
    expect(n).toBe(0);
    frames.shift()!();
    expect(n).toBe(1);
    expect(l.events.length).toBe(200); // the feed keeps the newest 200
    expect(l.events[0].data).toMatchObject({ host_name: 'h499' });
    expect(l.fleet.rows.size).toBe(500);
    l.handle({ type: 'hello', time: '' });
    expect(frames.length).toBe(1);
  });
});

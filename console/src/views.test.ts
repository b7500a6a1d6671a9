import { describe, expect, it } from 'vitest';
import { cliCommand, toParams } from './views/catalog';
import { parseParams } from './views/experiments';
import { describe as describeEvent } from './views/fleet';
import type { Template } from './types';

const t: Template = {
  name: 'process-topk-v1', title: 'Top K', description: '', when_to_use: '', expected_reduction: '', processors: [],
  params: [
    { name: 'k', description: '', type: 'int', default: 10, min: 1, max: 10000 },
    { name: 'critical_processes', description: '', type: 'string_list', default: ['sshd'] },
    { name: 'keep_other', description: '', type: 'bool', default: true },
    { name: 'interval', description: '', type: 'duration', default: '10s' },
  ],
};

describe('catalog form', () => {
  it('sends only changed parameters, typed', () => {
    expect(toParams(t, { k: '10', critical_processes: 'sshd', keep_other: true, interval: '10s' })).toEqual({});
    expect(toParams(t, { k: '25', critical_processes: 'sshd, nginx', keep_other: false, interval: '' })).toEqual({ k: 25, critical_processes: ['sshd', 'nginx'], keep_other: false });
    // A value the browser could not parse is sent as typed: the server says what is wrong.
    expect(toParams(t, { k: 'ten' })).toEqual({ k: 'ten' });
  });
  it('writes the equivalent phoenix command, quoted', () => {
    expect(cliCommand('process-topk-v1', 'web', ['web-1'], ['env=prod'], { k: 25, critical_processes: ['sshd', 'my app'] }, { type: 'otlp', endpoint: 'gw:4317' })).toBe(
      "phoenix pipeline deploy process-topk-v1 --name web --host web-1 --selector env=prod --param k=25 --param 'critical_processes=sshd,my app' --destination otlp=gw:4317 --watch",
    );
    expect(cliCommand('t', '', [], [], {}, { type: 'debug', endpoint: '' })).toBe("phoenix pipeline deploy t --name '<name>' --destination debug --watch");
  });
});

describe('experiment form', () => {
  it('parses name=value parameters', () => {
    expect(parseParams('k=10, keep_other=false, critical_processes=sshd|nginx, mode=fast')).toEqual({ k: 10, keep_other: false, critical_processes: ['sshd', 'nginx'], mode: 'fast' });
    expect(parseParams('')).toEqual({});
    expect(() => parseParams('k')).toThrow('write name=value');
  });
});

describe('event feed', () => {
  it('describes events in words', () => {
    expect(describeEvent({ type: 'agent.updated', time: '', host: 'h', data: { connected: false, status: { status: 'offline' } } })).toBe('agent h disconnected, offline');
    expect(describeEvent({ type: 'deployment.status', time: '', deployment: 'web', data: { version: 2, status: 'applied' } })).toBe('deployment web version 2: applied');
    expect(describeEvent({ type: 'deployment.created', time: '', deployment: 'web', data: { version: 1 } })).toBe('deployment web created (version 1)');
  });
});

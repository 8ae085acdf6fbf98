// "Keep the computer awake while sharing": the blocker is held exactly while the agent's decision
// says keepAwake, released when it stops saying so, when the agent is out of reach, and on quit.
import { describe, expect, it } from 'vitest';
import { Status } from '../../protocol/api.js';
import { Decision } from '../../protocol/policy.js';
import { KeepAwake, keepAwakeWanted, type SleepBlocker } from '../../main/keep-awake.js';
import type { AgentConnection } from '../../main/tray-menu.js';

function fakeBlocker() {
  const calls: string[] = [];
  let next = 10;
  const active = new Set<number>();
  const blocker: SleepBlocker & { failNext: boolean } = {
    failNext: false,
    start: (type) => {
      if (blocker.failNext) {
        blocker.failNext = false;
        throw new Error('no');
      }
      const id = next++;
      active.add(id);
      calls.push(`start ${type} -> ${id}`);
      return id;
    },
    stop: (id) => {
      calls.push(`stop ${id}`);
      return active.delete(id);
    },
  };
  return { blocker, calls, active };
}

function connected(keepAwake: boolean | null): AgentConnection {
  const decision =
    keepAwake === null
      ? null
      : Decision.parse({
          at: '2025-01-01T00:00:00Z',
          resources: [],
          proofs: { allowed: true, reason: { code: 'p', text: 'p' } },
          keepAwake,
          uncheckable: [],
          summary: { state: keepAwake ? 'running' : 'paused', reason: { code: 'c', text: 't' } },
        });
  const status = Status.parse({
    agent: { version: '0.1.0', pid: 1, startedAt: '2025-01-01T00:00:00Z', dataDir: '/d', host: 'h', platform: 'linux', timeZone: 'UTC', headless: false },
    consent: { required: false, currentVersion: 1 },
    startAtLogin: false,
    sharing: { manual: { mode: 'on', until: null, changedAt: null }, state: 'sharing', reason: { code: 'c', text: 't' } },
    decision,
    revision: 0,
    settingsRevision: 0,
    problems: [],
    updatedAt: '2025-01-01T00:00:00Z',
  });
  return { kind: 'connected', status };
}

describe('keepAwakeWanted', () => {
  it('is true only for a live status whose decision asks for it', () => {
    expect(keepAwakeWanted(connected(true))).toBe(true);
    expect(keepAwakeWanted(connected(false))).toBe(false);
    expect(keepAwakeWanted(connected(null))).toBe(false);
    for (const c of [{ kind: 'connecting' }, { kind: 'disconnected', since: 0 }, { kind: 'unauthorized' }, { kind: 'degraded', reason: 'x' }] as AgentConnection[]) {
      expect(keepAwakeWanted(c)).toBe(false);
    }
  });
});

describe('KeepAwake', () => {
  it('starts one prevent-app-suspension blocker, however often it is asked, and stops that same one', () => {
    const { blocker, calls, active } = fakeBlocker();
    const k = new KeepAwake(blocker);
    k.set(true);
    k.set(true);
    k.set(true);
    expect(calls).toEqual(['start prevent-app-suspension -> 10']);
    expect(k.held).toBe(true);
    k.set(false);
    k.set(false);
    expect(calls).toEqual(['start prevent-app-suspension -> 10', 'stop 10']);
    expect(active.size).toBe(0);
    expect(k.held).toBe(false);
  });

  it('follows a sequence of statuses: on, a disconnection, back on, off', () => {
    const { blocker, calls } = fakeBlocker();
    const k = new KeepAwake(blocker);
    for (const c of [connected(true), { kind: 'disconnected', since: 1 } as AgentConnection, connected(true), connected(true), connected(false)]) {
      k.set(keepAwakeWanted(c));
    }
    expect(calls).toEqual(['start prevent-app-suspension -> 10', 'stop 10', 'start prevent-app-suspension -> 11', 'stop 11']);
  });

  it('release() on quit lets the computer sleep, and is safe to repeat', () => {
    const { blocker, calls, active } = fakeBlocker();
    const k = new KeepAwake(blocker);
    k.release();
    k.set(true);
    k.release();
    k.release();
    expect(calls).toEqual(['start prevent-app-suspension -> 10', 'stop 10']);
    expect(active.size).toBe(0);
  });

  it('a blocker that throws is logged and tried again on the next request', () => {
    const { blocker, calls } = fakeBlocker();
    const logs: string[] = [];
    const k = new KeepAwake(blocker, (m) => logs.push(m));
    blocker.failNext = true;
    k.set(true);
    expect(k.held).toBe(false);
    expect(logs[0]).toMatch(/could not keep the computer awake/);
    k.set(true);
    expect(k.held).toBe(true);
    expect(calls).toEqual(['start prevent-app-suspension -> 10']);
  });
});

// The headless agent as a real process: lock, runtime file, CLI, clean shutdown.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startAgentProcess, type AgentProcess } from '../support/agent-process.js';
import { useTempDirs } from '../support/tmp.js';
import { reportUserAway } from '../support/signals.js';

describe('offhours agent (real process)', () => {
  const tmp = useTempDirs();
  const agents: AgentProcess[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL');
  });

  it('prints a dashboard URL with the token in the fragment, never in a query string', async () => {
    const agent = await startAgentProcess(tmp());
    agents.push(agent);
    const url = new URL(agent.printedUrl);
    expect(url.origin).toBe(agent.origin);
    expect(url.search).toBe('');
    expect(url.hash).toBe(`#token=${agent.token}`);
    // The token is shown to the user on stdout but never written to the log file.
    expect(readFileSync(join(agent.dataDir, 'logs', 'agent.log'), 'utf8')).not.toContain(agent.token);
  });

  it('a second agent on the same data directory refuses to start, with a clear message', async () => {
    const dataDir = tmp();
    const first = await startAgentProcess(dataDir);
    agents.push(first);
    const second = await runCli(['agent', '--data-dir', dataDir, '--port', '0']);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`Another Offhours agent (pid ${first.child.pid}`);
    expect(second.stderr).toContain(dataDir);
    // The first one is unharmed.
    expect((await runCli(['status', '--data-dir', dataDir])).code).toBe(0);
  });

  it('finds the agent through OFFHOURS_DATA_DIR just like --data-dir', async () => {
    const dataDir = tmp();
    agents.push(await startAgentProcess(dataDir));
    const viaEnv = await runCli(['status', '--json'], { OFFHOURS_DATA_DIR: dataDir });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout).agent.dataDir).toBe(dataDir);
  });

  it('pause, resume and drain from the CLI change what the agent reports', async () => {
    const dataDir = tmp();
    const agent = await startAgentProcess(dataDir);
    agents.push(agent);
    await fetch(`${agent.origin}/api/v1/settings`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ consent: { accepted: true, version: 1 } }),
    });
    // An away user on a cool machine, so the default rules allow sharing once it is on.
    await reportUserAway(agent.origin, agent.token);
    const state = async () => JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout).sharing;
    expect((await runCli(['resume', '--data-dir', dataDir])).code).toBe(0);
    expect((await state()).state).toBe('sharing');
    expect((await runCli(['pause', '--for', '45m', '--data-dir', dataDir])).code).toBe(0);
    const snoozed = await state();
    expect(snoozed.state).toBe('paused');
    expect(Date.parse(snoozed.manual.until) - Date.now()).toBeGreaterThan(44 * 60_000);
    expect((await runCli(['drain', '--data-dir', dataDir])).code).toBe(0);
    expect((await state()).manual.mode).toBe('drain');
    expect((await runCli(['pause', '--data-dir', dataDir])).code).toBe(0);
    expect((await state()).manual.mode).toBe('off');
    const bad = await runCli(['pause', '--for', 'soon', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a duration/);
  });

  it('says clearly when no agent runs', async () => {
    const dataDir = tmp();
    const never = await runCli(['status', '--data-dir', dataDir]);
    expect(never.code).toBe(3);
    expect(never.stderr).toMatch(/No Offhours agent has run with the data directory/);
    const agent = await startAgentProcess(dataDir);
    expect(await agent.stop('SIGTERM')).toBe(0);
    const gone = await runCli(['status', '--data-dir', dataDir]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/No Offhours agent is running/);
  });

  it('shuts down cleanly on SIGINT and SIGTERM: lock released, runtime file removed, journal closed', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const dataDir = tmp();
      const agent = await startAgentProcess(dataDir);
      expect(existsSync(join(dataDir, 'agent.lock'))).toBe(true);
      expect(await agent.stop(signal)).toBe(0);
      expect(existsSync(join(dataDir, 'agent.lock'))).toBe(false);
      expect(existsSync(join(dataDir, 'agent.json'))).toBe(false);
      const journal = readFileSync(join(dataDir, 'history', 'activity.jsonl'), 'utf8');
      expect(journal).toContain('"agent-stopped"');
    }
  });

  it('starts again after being killed with SIGKILL (stale lock taken over)', async () => {
    const dataDir = tmp();
    const agent = await startAgentProcess(dataDir);
    await agent.stop('SIGKILL');
    // Its runtime file is left behind; the CLI must not send the token to whatever holds that port now.
    const stale = await runCli(['status', '--data-dir', dataDir]);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/has stopped/);
    const again = await startAgentProcess(dataDir);
    agents.push(again);
    expect((await runCli(['status', '--data-dir', dataDir])).code).toBe(0);
  });

  it('refuses bad arguments with exit code 2', async () => {
    const r = await runCli(['agent', '--port', 'eighty', '--data-dir', tmp()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be a number/);
    const rel = await runCli(['status', '--data-dir', 'relative/dir']);
    expect(rel.code).toBe(2);
    expect(rel.stderr).toMatch(/absolute path/);
  });
});

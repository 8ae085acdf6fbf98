// Starts the built `offhours agent` as a real process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const cliPath = join(repoRoot, 'dist', 'cli', 'offhours.js');

export function requireBuild(): void {
  for (const f of [cliPath, join(repoRoot, 'dist', 'renderer', 'index.html')]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run "npm run build" first (npm test does)`);
  }
}

export interface AgentProcess {
  child: ChildProcess;
  dataDir: string;
  /** The dashboard URL the agent printed, token in the fragment. */
  printedUrl: string;
  origin: string;
  port: number;
  token: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

export async function startAgentProcess(dataDir: string, extraArgs: string[] = []): Promise<AgentProcess> {
  requireBuild();
  const child = spawn(process.execPath, [cliPath, 'agent', '--data-dir', dataDir, '--port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const printedUrl = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`agent did not print its URL in 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /Open the dashboard: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => rej(new Error(`agent exited with ${code}:\n${out}`)));
  });
  const runtime = JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as { port: number };
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  return {
    child,
    dataDir,
    printedUrl,
    origin: `http://127.0.0.1:${runtime.port}`,
    port: runtime.port,
    token,
    output: () => out,
    stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      return new Promise((r) => {
        child.once('exit', (code) => r(code));
        child.kill(signal);
      });
    },
  };
}

/** Calls the agent's API with its token; any answer outside 2xx fails the test with its body. */
export async function callAgent<T = unknown>(agent: Pick<AgentProcess, 'origin' | 'token'>, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${agent.origin}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${agent.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// Electron's utility processes behind the ChildHandle interface the supervisors use. Their output
// is piped (not inherited) so a packaged app on Windows, which has no console, still keeps it,
// and each line is prefixed with the process it came from.
import { utilityProcess, type MessagePortMain, type UtilityProcess } from 'electron';
import type { ChildHandle } from './child-handle.js';

function forwardLines(stream: NodeJS.ReadableStream | null, prefix: string, write: (text: string) => void): void {
  if (stream === null) return;
  let pending = '';
  stream.on('data', (chunk: Buffer | string) => {
    pending += String(chunk);
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) write(`[${prefix}] ${line}\n`);
  });
}

export function adaptUtilityProcess(child: UtilityProcess, label: string): ChildHandle<MessagePortMain> {
  forwardLines(child.stdout, label, (text) => process.stdout.write(text));
  forwardLines(child.stderr, label, (text) => process.stderr.write(text));
  return {
    pid: () => child.pid,
    post: (message, transfer) => child.postMessage(message, transfer),
    onSpawn: (listener) => void child.once('spawn', listener),
    onMessage: (listener) => void child.on('message', listener),
    onExit: (listener) => void child.once('exit', listener),
    kill: () => void child.kill(),
  };
}

export function forkUtility(modulePath: string, args: string[], serviceName: string, label: string): ChildHandle<MessagePortMain> {
  return adaptUtilityProcess(utilityProcess.fork(modulePath, args, { serviceName, stdio: 'pipe' }), label);
}

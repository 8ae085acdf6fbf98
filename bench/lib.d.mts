export const root: string;
export function emit(metric: string, value: number, unit: string, baseline: number | null): void;
export function percentile(sorted: number[], p: number): number;
export function cpuSeconds(pid: number): number;
export function rssBytes(pid: number): number;
export function startAgent(extraArgs?: string[]): Promise<{ child: import('node:child_process').ChildProcess; pid: number; port: number; token: string; dataDir: string; stop(): Promise<unknown> }>;

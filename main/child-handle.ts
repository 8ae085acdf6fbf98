// The slice of an Electron utility process that main's supervisors use. Electron's UtilityProcess
// is adapted to it in electron-adapters.ts; tests pass fakes. `P` is the transferable port type
// (MessagePortMain in Electron).
export interface ChildHandle<P = unknown> {
  /** Undefined until the process has spawned, and again after it exits. */
  pid(): number | undefined;
  post(message: unknown, transfer?: P[]): void;
  onSpawn(listener: () => void): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number) => void): void;
  kill(): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

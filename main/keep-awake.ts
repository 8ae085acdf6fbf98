// "Keep the computer awake while sharing": OS sleep would otherwise end idle-time sharing after
// 15–30 minutes. The agent decides (decision.keepAwake: the setting is on and something runs);
// main holds Electron's powerSaveBlocker ('prevent-app-suspension': the system stays up, the
// display may still sleep) while that is true, and lets go as soon as it is not, when the agent
// is out of reach (its workers are stopped with it), and on quit. Electron-free: the blocker is
// injected.
import type { AgentConnection } from './tray-menu.js';

/** The slice of Electron's powerSaveBlocker used here. */
export interface SleepBlocker {
  start(type: 'prevent-app-suspension'): number;
  stop(id: number): boolean;
}

/** Whether the agent currently asks to keep the computer awake. Anything but a live answer is no. */
export function keepAwakeWanted(connection: AgentConnection): boolean {
  return connection.kind === 'connected' && connection.status.decision?.keepAwake === true;
}

export class KeepAwake {
  private id: number | null = null;

  constructor(
    private readonly blocker: SleepBlocker,
    private readonly log: (message: string) => void = () => {},
  ) {}

  get held(): boolean {
    return this.id !== null;
  }

  /** Holds the blocker while `wanted`; repeated calls with the same value do nothing. */
  set(wanted: boolean): void {
    if (wanted && this.id === null) {
      try {
        this.id = this.blocker.start('prevent-app-suspension');
        this.log('keeping the computer awake while sharing');
      } catch (error) {
        this.log(`could not keep the computer awake: ${String(error)}`);
      }
    } else if (!wanted) {
      this.release();
    }
  }

  /** Lets the computer sleep again (also on quit). */
  release(): void {
    if (this.id === null) return;
    const id = this.id;
    this.id = null;
    try {
      this.blocker.stop(id);
      this.log('the computer may sleep again');
    } catch (error) {
      this.log(`could not release the sleep blocker: ${String(error)}`);
    }
  }
}

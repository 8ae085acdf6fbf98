// What closing the window does. The app lives in the tray, so closing normally hides the window;
// but on a Linux desktop without a StatusNotifier host there is no tray to come back from, and a
// hidden window would leave an invisible app running work on the user's machine. There we
// minimise instead, so the app stays in the task bar.
export type CloseAction = 'close' | 'hide' | 'minimize';

export interface CloseContext {
  /** Quit was asked for (tray, menu, OS shutdown): let the window go. */
  quitting: boolean;
  /** Whether a tray icon can be shown and clicked (see tray-availability.ts). */
  trayAvailable: boolean;
}

export function closeAction(context: CloseContext): CloseAction {
  if (context.quitting) return 'close';
  return context.trayAvailable ? 'hide' : 'minimize';
}

/** Whether to keep the window out of sight at start: launched at login (`--hidden`, or macOS's
 * login item, which cannot pass arguments), and only when there is a tray to open it from. */
export function startHidden(input: { argv: readonly string[]; openedAtLogin: boolean; trayAvailable: boolean }): boolean {
  if (!input.trayAvailable) return false;
  return input.argv.includes('--hidden') || input.openedAtLogin;
}

// The shell's own command-line flags. Electron and Chromium add switches of their own, and an
// unpackaged run has the app folder as an argument, so anything unknown is ignored, not refused.
export interface ShellArgs {
  /** `--data-dir DIR` or `--data-dir=DIR`; resolved and checked by protocol/data-dir.ts. */
  dataDir?: string;
  /** Launched at login: stay in the tray. */
  hidden: boolean;
}

export function parseShellArgs(argv: readonly string[]): ShellArgs {
  const out: ShellArgs = { hidden: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--hidden') out.hidden = true;
    else if (arg === '--data-dir' && i + 1 < argv.length) out.dataDir = argv[++i]!;
    else if (arg.startsWith('--data-dir=')) out.dataDir = arg.slice('--data-dir='.length);
  }
  return out;
}

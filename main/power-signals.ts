// Power and session signals from Electron's powerMonitor (idle time, lock, battery, suspend,
// thermal state) belong to the agent's policy, which runs in a process that cannot see them.
// Forwarding them is a later issue; this is where it goes, started from main.ts once the agent
// is up. Note for then: on Wayland getSystemIdleTime() is always 0, which means "unknown", not
// "active" (see ../shared/REFERENCE.md, "Idle, games, power signals").
export interface PowerSignalSink {
  /** Will carry validated signal messages to the agent. */
  send(message: never): void;
}

/** Forwards nothing yet; returns the function that stops forwarding. */
export function startPowerSignals(_sink: PowerSignalSink): () => void {
  return () => {};
}

// The dashboard's only bridge to the shell: it can ask for the API token, nothing else. A sandboxed
// preload may require only 'electron' (and a few shims), and must be CommonJS (vite.config.ts
// builds it to dist/main/preload.cjs), so this file imports nothing else: the channel name is
// repeated from window-security.ts, and a packaging test checks the built file's requires.
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('offhoursShell', {
  // Main answers only the top frame of the agent's origin (window-security.ts).
  getToken: (): Promise<string> => ipcRenderer.invoke('offhours:get-token'),
});

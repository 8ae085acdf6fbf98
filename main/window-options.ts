// The dashboard window's options. The page is web content served over loopback: it gets no Node,
// runs sandboxed in its own world, and reaches the shell only through the preload's one function.
export interface DashboardWindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  icon?: string;
  autoHideMenuBar: boolean;
  webPreferences: {
    preload: string;
    contextIsolation: true;
    sandbox: true;
    nodeIntegration: false;
    nodeIntegrationInWorker: false;
    nodeIntegrationInSubFrames: false;
    webSecurity: true;
    allowRunningInsecureContent: false;
    webviewTag: false;
    experimentalFeatures: false;
    navigateOnDragDrop: false;
    spellcheck: false;
  };
}

export function dashboardWindowOptions(input: { preload: string; show: boolean; icon?: string }): DashboardWindowOptions {
  return {
    width: 1120,
    height: 760,
    minWidth: 720,
    minHeight: 520,
    show: input.show,
    title: 'Offhours',
    ...(input.icon !== undefined ? { icon: input.icon } : {}),
    autoHideMenuBar: true,
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      // A file dropped on the window would otherwise navigate it to file://.
      navigateOnDragDrop: false,
      // Spellcheck downloads dictionaries from Google's CDN.
      spellcheck: false,
    },
  };
}

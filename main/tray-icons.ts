// Which file in resources/tray/ shows a tray state on each OS (tools/icons/make-icons.mjs draws
// them). macOS menu bars want template images (black + alpha, recoloured by the OS for light and
// dark bars; Electron treats a name ending in "Template" as one). Windows picks the right size
// from an .ico for the screen's scale. Linux gets a colour PNG; Electron adds the @2x file.
import { join } from 'node:path';
import type { TrayIconState } from './tray-menu.js';

export const TRAY_ICON_STATES: readonly TrayIconState[] = ['sharing', 'paused', 'off', 'error'];

export function trayIconFile(state: TrayIconState, platform: string): string {
  if (platform === 'darwin') return `tray-${state}Template.png`;
  if (platform === 'win32') return `tray-${state}.ico`;
  return `tray-${state}.png`;
}

/** resources/ holds icons outside the asar in a packaged app (electron-builder `extraResources`),
 * so the OS tray implementations get real files. */
export function resourcesDir(input: { isPackaged: boolean; resourcesPath: string; appPath: string }): string {
  return input.isPackaged ? input.resourcesPath : join(input.appPath, 'resources');
}

export function trayIconPath(resources: string, state: TrayIconState, platform: string): string {
  return join(resources, 'tray', trayIconFile(state, platform));
}

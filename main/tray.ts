// The tray icon: shows a TrayView (tray-menu.ts) with Electron's Tray and Menu. Some Linux
// StatusNotifier hosts ignore clicks on the icon, so everything is reachable from the context
// menu, which is set again after every change (a menu's items are not live on every OS).
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import type { TrayAction, TrayIconState, TrayMenuItem, TrayView } from './tray-menu.js';
import { TRAY_ICON_STATES, trayIconPath } from './tray-icons.js';

export function menuTemplate(items: readonly TrayMenuItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === 'separator') return { type: 'separator' };
    const click = item.action !== undefined ? () => onAction(item.action!) : undefined;
    if (item.type === 'checkbox') return { type: 'checkbox', label: item.label, enabled: item.enabled, checked: item.checked, ...(click ? { click } : {}) };
    return { type: 'normal', label: item.label, enabled: item.enabled, ...(click ? { click } : {}) };
  });
}

export class ShellTray {
  private readonly tray: Tray;
  private readonly images = new Map<TrayIconState, NativeImage>();
  private shown: string | null = null;

  constructor(resources: string, platform: string, private readonly onAction: (action: TrayAction) => void, onClick: () => void) {
    for (const state of TRAY_ICON_STATES) {
      const image = nativeImage.createFromPath(trayIconPath(resources, state, platform));
      if (platform === 'darwin') image.setTemplateImage(true);
      this.images.set(state, image);
    }
    this.tray = new Tray(this.images.get('off')!);
    // Windows and most Linux hosts open the window on a click; macOS opens the menu instead.
    if (platform !== 'darwin') this.tray.on('click', onClick);
  }

  show(view: TrayView): void {
    // Rebuilding an identical menu makes some Linux hosts close an open menu under the pointer.
    const key = JSON.stringify(view);
    if (key === this.shown) return;
    this.shown = key;
    this.tray.setImage(this.images.get(view.icon)!);
    this.tray.setToolTip(view.tooltip);
    this.tray.setContextMenu(Menu.buildFromTemplate(menuTemplate(view.items, this.onAction)));
  }

  destroy(): void {
    this.tray.destroy();
  }
}

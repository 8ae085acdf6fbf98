// The Electron side of the tray, with Electron faked at the boundary: the right image file per
// state and OS, a context menu on every OS, set again after each change.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrayView } from '../../main/tray-menu.js';

const fake = vi.hoisted(() => {
  const images: Array<{ path: string; template: boolean }> = [];
  const trays: FakeTray[] = [];
  class FakeTray {
    image: unknown;
    tooltip = '';
    menus: unknown[] = [];
    listeners = new Map<string, () => void>();
    destroyed = false;
    constructor(image: unknown) {
      this.image = image;
      trays.push(this);
    }
    setImage(image: unknown) {
      this.image = image;
    }
    setToolTip(text: string) {
      this.tooltip = text;
    }
    setContextMenu(menu: unknown) {
      this.menus.push(menu);
    }
    on(event: string, listener: () => void) {
      this.listeners.set(event, listener);
    }
    destroy() {
      this.destroyed = true;
    }
  }
  return { images, trays, FakeTray };
});

vi.mock('electron', () => ({
  Tray: fake.FakeTray,
  Menu: { buildFromTemplate: (template: unknown[]) => ({ template }) },
  nativeImage: {
    createFromPath: (path: string) => {
      const image = { path, template: false, setTemplateImage: (on: boolean) => (image.template = on) };
      fake.images.push(image);
      return image;
    },
  },
}));

const { ShellTray, menuTemplate } = await import('../../main/tray.js');
const { trayIconPath, TRAY_ICON_STATES, resourcesDir } = await import('../../main/tray-icons.js');

const view = (over: Partial<TrayView> = {}): TrayView => ({
  icon: 'sharing',
  tooltip: 'Offhours: Sharing',
  items: [
    { type: 'normal', label: 'Sharing: idle', enabled: false },
    { type: 'separator' },
    { type: 'checkbox', label: 'Sharing on', enabled: true, checked: true, action: 'sharing-off' },
    { type: 'normal', label: 'Open dashboard', enabled: true, action: 'open-dashboard' },
    { type: 'normal', label: 'Quit Offhours', enabled: true, action: 'quit' },
  ],
  ...over,
});

describe('ShellTray', () => {
  beforeEach(() => {
    fake.images.length = 0;
    fake.trays.length = 0;
  });

  it('loads one image per state from resources/tray and marks macOS ones as templates', () => {
    new ShellTray('/res', 'darwin', () => {}, () => {});
    expect(fake.images.map((i) => i.path)).toEqual(TRAY_ICON_STATES.map((s) => `/res/tray/tray-${s}Template.png`));
    expect(fake.images.every((i) => i.template)).toBe(true);

    fake.images.length = 0;
    new ShellTray('/res', 'win32', () => {}, () => {});
    expect(fake.images.map((i) => i.path)).toEqual(TRAY_ICON_STATES.map((s) => `/res/tray/tray-${s}.ico`));
    expect(fake.images.some((i) => i.template)).toBe(false);

    fake.images.length = 0;
    new ShellTray('/res', 'linux', () => {}, () => {});
    expect(fake.images.map((i) => i.path)).toEqual(TRAY_ICON_STATES.map((s) => `/res/tray/tray-${s}.png`));
  });

  it('every icon it asks for exists in resources/, on every OS', () => {
    const resources = resourcesDir({ isPackaged: false, resourcesPath: '/nowhere', appPath: process.cwd() });
    for (const platform of ['linux', 'win32', 'darwin']) {
      for (const state of TRAY_ICON_STATES) {
        const path = trayIconPath(resources, state, platform);
        expect(existsSync(path), path).toBe(true);
        // Electron picks the @2x file next to a PNG on HiDPI screens.
        if (path.endsWith('.png')) expect(existsSync(path.replace(/\.png$/, '@2x.png')), path).toBe(true);
      }
    }
    expect(existsSync(join(resources, 'icon.png'))).toBe(true);
    expect(resourcesDir({ isPackaged: true, resourcesPath: '/opt/Offhours/resources', appPath: '/x/app.asar' })).toBe('/opt/Offhours/resources');
  });

  it('sets a context menu, image and tooltip, and sets the menu again after every change', () => {
    const tray = new ShellTray('/res', 'linux', () => {}, () => {});
    const electronTray = fake.trays[0]!;
    tray.show(view());
    expect(electronTray.menus).toHaveLength(1);
    expect((electronTray.image as { path: string }).path).toBe('/res/tray/tray-sharing.png');
    expect(electronTray.tooltip).toBe('Offhours: Sharing');

    tray.show(view());
    expect(electronTray.menus).toHaveLength(1);

    tray.show(view({ icon: 'paused', tooltip: 'Offhours: Paused' }));
    expect(electronTray.menus).toHaveLength(2);
    expect((electronTray.image as { path: string }).path).toBe('/res/tray/tray-paused.png');
  });

  it('a click opens the window on Windows and Linux; macOS keeps the click for the menu', () => {
    const onClick = vi.fn();
    new ShellTray('/res', 'linux', () => {}, onClick);
    fake.trays[0]!.listeners.get('click')!();
    expect(onClick).toHaveBeenCalledOnce();
    new ShellTray('/res', 'darwin', () => {}, onClick);
    expect(fake.trays[1]!.listeners.has('click')).toBe(false);
  });

  it('destroy() removes the icon', () => {
    const tray = new ShellTray('/res', 'linux', () => {}, () => {});
    tray.destroy();
    expect(fake.trays[0]!.destroyed).toBe(true);
  });
});

describe('menuTemplate', () => {
  it('maps descriptors to Electron items and clicks to action ids', () => {
    const onAction = vi.fn();
    const template = menuTemplate(view().items, onAction);
    expect(template.map((t) => t.type)).toEqual(['normal', 'separator', 'checkbox', 'normal', 'normal']);
    expect(template[0]).toEqual({ type: 'normal', label: 'Sharing: idle', enabled: false });
    expect(template[2]).toMatchObject({ label: 'Sharing on', checked: true, enabled: true });
    (template[2]!.click as () => void)();
    (template[4]!.click as () => void)();
    expect(onAction.mock.calls).toEqual([['sharing-off'], ['quit']]);
  });
});

// Which Steam game runs now, from Steam's own state: the RunningAppID value Steam keeps in its
// registry (non-zero while a game runs; NiceHash watches the same value).
//   Windows: HKCU\Software\Valve\Steam\RunningAppID, read with `reg query` (async, every 5 s with
//            the process list; a native registry call would need a native module);
//   Linux:   ~/.steam/registry.vdf (Steam's registry emulation), or the Flatpak's copy;
//   macOS:   ~/Library/Application Support/Steam/registry.vdf.
// The game's name comes from steamapps/appmanifest_<id>.acf in any Steam library, else "Steam game <id>".
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readText } from './proc-stat.js';
import { runCommand, type RunCommand } from './run-command.js';

export type Vdf = { [key: string]: string | Vdf };

/** Valve's KeyValues text format: "key" "value" pairs and "key" { … } blocks, // comments,
 * optional [$WIN32]-style conditions (ignored). Malformed input gives what parsed before it. */
export function parseVdf(text: string): Vdf {
  const tokens: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\/\/[^\n]*)|(\[[^\]]*\])|([{}])|([^\s"{}]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[2] !== undefined || m[3] !== undefined) continue;
    if (m[1] !== undefined) tokens.push(`"${m[1].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c))}`);
    else tokens.push(m[4] ?? `"${m[5]}`);
  }
  let i = 0;
  const block = (): Vdf => {
    const out: Vdf = {};
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t === '}') return out;
      if (t === '{') continue;
      const key = t.slice(1);
      const next = tokens[i++];
      if (next === undefined) break;
      out[key] = next === '{' ? block() : next === '}' ? '' : next.slice(1);
      if (next === '}') return out;
    }
    return out;
  };
  return block();
}

/** Case-insensitive path lookup (Steam writes "RunningAppID", older files "runningappid"). */
export function vdfGet(v: Vdf | string | undefined, ...path: string[]): Vdf | string | undefined {
  let cur = v;
  for (const p of path) {
    if (cur === undefined || typeof cur === 'string') return undefined;
    const key = Object.keys(cur).find((k) => k.toLowerCase() === p.toLowerCase());
    cur = key === undefined ? undefined : cur[key];
  }
  return cur;
}

/** RunningAppID from a registry.vdf: the number, 0 when none runs, null if it is not there. */
export function runningAppIdFromVdf(text: string): number | null {
  const v = vdfGet(parseVdf(text), 'Registry', 'HKCU', 'Software', 'Valve', 'Steam', 'RunningAppID');
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null;
}

/** `reg query HKCU\Software\Valve\Steam` output: REG_DWORD values are hex ("0x0"). */
export function parseRegQuery(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s+(.+?)\s+(REG_\w+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[3]!.trim();
    out.set(m[1]!.toLowerCase(), m[2] === 'REG_DWORD' && /^0x[0-9a-f]+$/i.test(raw) ? String(parseInt(raw, 16)) : raw);
  }
  return out;
}

export function appNameFromManifest(text: string): string | null {
  const name = vdfGet(parseVdf(text), 'AppState', 'name');
  return typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 200) : null;
}

export type SteamState =
  | { state: 'running'; appId: number; name: string }
  | { state: 'idle' }
  /** No Steam state found: Steam is not installed for this user (or never ran). */
  | { state: 'absent'; looked: string };

export interface SteamReaderOptions {
  platform: NodeJS.Platform;
  home: string;
  env?: NodeJS.ProcessEnv;
  run?: RunCommand;
}

const FLATPAK = '.var/app/com.valvesoftware.Steam';

export function steamRegistryFiles(platform: NodeJS.Platform, home: string): string[] {
  if (platform === 'darwin') return [join(home, 'Library', 'Application Support', 'Steam', 'registry.vdf')];
  if (platform === 'linux') return [join(home, '.steam', 'registry.vdf'), join(home, '.steam', 'steam', 'registry.vdf'), join(home, FLATPAK, '.steam', 'registry.vdf')];
  return [];
}

export function steamRoots(platform: NodeJS.Platform, home: string): string[] {
  if (platform === 'darwin') return [join(home, 'Library', 'Application Support', 'Steam')];
  if (platform === 'linux') return [join(home, '.steam', 'steam'), join(home, '.steam', 'root'), join(home, '.local', 'share', 'Steam'), join(home, FLATPAK, '.local', 'share', 'Steam'), join(home, FLATPAK, 'data', 'Steam')];
  return [];
}

/** Reads Steam's running game. Keeps parsed files and names between calls: the registry file is
 * only parsed again when its modification time changes. */
export class SteamReader {
  private readonly names = new Map<number, string>();
  private readonly parsed = new Map<string, { mtimeMs: number; appId: number | null }>();
  private readonly run: RunCommand;

  constructor(private readonly opts: SteamReaderOptions) {
    this.run = opts.run ?? runCommand;
  }

  async read(): Promise<SteamState> {
    let appId: number | null;
    let roots = steamRoots(this.opts.platform, this.opts.home);
    let looked: string;
    if (this.opts.platform === 'win32') {
      looked = 'HKCU\\Software\\Valve\\Steam';
      const r = await this.run('reg', ['query', 'HKCU\\Software\\Valve\\Steam'], { timeoutMs: 5_000, env: this.opts.env });
      if (!r.ok) return { state: 'absent', looked };
      const values = parseRegQuery(r.stdout);
      const id = values.get('runningappid');
      appId = id !== undefined && /^\d+$/.test(id) ? Number(id) : null;
      const path = values.get('steampath');
      if (path) roots = [path];
    } else {
      const files = steamRegistryFiles(this.opts.platform, this.opts.home);
      looked = files.join(', ');
      appId = await this.readRegistryFiles(files);
    }
    if (appId === null) return { state: 'absent', looked };
    if (appId === 0) return { state: 'idle' };
    return { state: 'running', appId, name: await this.appName(appId, roots) };
  }

  private async readRegistryFiles(files: string[]): Promise<number | null> {
    for (const file of files) {
      let mtimeMs: number;
      try {
        mtimeMs = (await stat(file)).mtimeMs;
      } catch {
        continue;
      }
      let entry = this.parsed.get(file);
      if (!entry || entry.mtimeMs !== mtimeMs) {
        const text = await readText(file);
        entry = { mtimeMs, appId: text === null ? null : runningAppIdFromVdf(text) };
        this.parsed.set(file, entry);
      }
      if (entry.appId !== null) return entry.appId;
    }
    return null;
  }

  private async appName(appId: number, roots: string[]): Promise<string> {
    const known = this.names.get(appId);
    if (known) return known;
    const libraries = new Set<string>();
    for (const root of roots) {
      libraries.add(root);
      const folders = await readText(join(root, 'steamapps', 'libraryfolders.vdf'));
      const list = folders === null ? undefined : vdfGet(parseVdf(folders), 'libraryfolders');
      if (list && typeof list !== 'string') {
        for (const entry of Object.values(list)) {
          const path = typeof entry === 'string' ? entry : vdfGet(entry, 'path');
          if (typeof path === 'string' && path !== '') libraries.add(path);
        }
      }
    }
    for (const lib of libraries) {
      const manifest = await readText(join(lib, 'steamapps', `appmanifest_${appId}.acf`));
      const name = manifest === null ? null : appNameFromManifest(manifest);
      if (name) {
        this.names.set(appId, name);
        return name;
      }
    }
    return `Steam game ${appId}`;
  }
}

// A directory shaped like /sys (files with a trailing newline, symlinks as the kernel makes them),
// for the readers that take a sysRoot: hwmon temperatures and power, RAPL, power_supply.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function writeSysfs(root: string, files: Record<string, string>, links: Record<string, string> = {}): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${text}\n`);
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(root, target), { recursive: true });
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(join(root, target), join(root, path));
  }
  return root;
}

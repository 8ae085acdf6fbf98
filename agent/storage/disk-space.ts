// The numbers a person checks against their file manager: what the file system reports for the
// storage folder (statfs), what our pieces occupy as it counts them (allocated blocks, not file
// lengths), the reserve that is never filled, and what may still be stored.
import { statfs, stat } from 'node:fs/promises';
import { reserveBytes, type StorageView } from '../../protocol/index.js';

export type DiskNumbers = NonNullable<StorageView['disk']>;

/** What a file occupies on disk: allocated blocks where the platform reports them (sparse files
 * and block rounding included), else its length (Windows reports no blocks). */
export async function diskBytesOf(path: string): Promise<number> {
  try {
    const st = await stat(path);
    return st.blocks !== undefined && st.blocks > 0 ? st.blocks * 512 : st.size;
  } catch {
    return 0;
  }
}

export async function diskNumbers(folder: string, capBytes: number, usedBytes: number): Promise<DiskNumbers> {
  const fs = await statfs(folder);
  const totalBytes = fs.blocks * fs.bsize;
  const freeBytes = fs.bavail * fs.bsize;
  const reserve = reserveBytes(totalBytes);
  // Never past the cap, and never into the reserve the disk keeps for its owner.
  const availableBytes = Math.max(0, Math.min(capBytes - usedBytes, freeBytes - reserve));
  return { folder, totalBytes, freeBytes, reserveBytes: reserve, usedBytes, availableBytes };
}

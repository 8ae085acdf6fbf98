// Serves the built dashboard. Only files inside the renderer folder, resolved from a fixed list
// made at start-up: a request path is never joined onto the file system.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export interface StaticFiles {
  readonly available: boolean;
  readonly dir: string;
  serve(urlPath: string, res: ServerResponse, headers: Record<string, string>): boolean;
}

function listFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.set(`/${relative(dir, full).split(sep).join('/')}`, full);
    }
  };
  walk(dir);
  return out;
}

export function staticFiles(dir: string): StaticFiles {
  const available = existsSync(join(dir, 'index.html'));
  const files = available ? listFiles(dir) : new Map<string, string>();
  return {
    available,
    dir,
    serve(urlPath, res, headers) {
      const path = urlPath === '/' ? '/index.html' : urlPath;
      const file = files.get(path);
      if (!file) return false;
      const body = readFileSync(file);
      // Hashed assets never change; the page itself must always be fresh after an upgrade.
      const cache = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      res.writeHead(200, {
        ...headers,
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': cache,
      });
      res.end(body);
      return true;
    },
  };
}

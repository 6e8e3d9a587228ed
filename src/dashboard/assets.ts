/** The dashboard's one script and one stylesheet, read once from `./assets/` next to this module. */
import { readFileSync } from 'node:fs';

export interface Asset {
  body: Buffer;
  type: string;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/** URL path (`/assets/…`) → the file's bytes and content type. */
export function loadAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [path, a] of Object.entries(ASSETS)) {
    out.set(path, { body: readFileSync(new URL(`./assets/${a.file}`, import.meta.url)), type: a.type });
  }
  return out;
}

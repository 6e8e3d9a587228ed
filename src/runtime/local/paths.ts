import { join, resolve } from 'node:path';

/** Where `berth dev` keeps its state, all under `<root>/.berth/`. */
export interface DevPaths {
  root: string;
  dir: string;
  db: string;
  engineFile: string;
  buckets: string;
  logs: string;
  payloads: string;
  volumes: string;
  config: string;
}

export function devPaths(root: string): DevPaths {
  const abs = resolve(root);
  const dir = join(abs, '.berth');
  return {
    root: abs,
    dir,
    db: join(dir, 'dev.db'),
    engineFile: join(dir, 'engine.json'),
    buckets: join(dir, 'buckets'),
    logs: join(dir, 'logs'),
    payloads: join(dir, 'payloads'),
    volumes: join(dir, 'volumes'),
    config: join(abs, 'berth.dev.json'),
  };
}

/** `.berth/logs/<runId>/<attempt>.log` */
export function logFile(paths: DevPaths, runId: string, attempt: number): string {
  return join(paths.logs, runId, `${attempt}.log`);
}

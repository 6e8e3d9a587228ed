import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EngineInfo } from './http.js';

/** Where `berth dev` keeps its state, all under `<root>/.berth/`. */
export interface DevPaths {
  root: string;
  dir: string;
  db: string;
  engineFile: string;
  buckets: string;
  logs: string;
  payloads: string;
  /** Exit statuses written by the attempt wrapper (`<runId>.<attempt>`). */
  exits: string;
  /** Held by the running engine for its whole life (see lock.ts). */
  lock: string;
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
    exits: join(dir, 'exits'),
    lock: join(dir, 'engine.lock'),
    volumes: join(dir, 'volumes'),
    config: join(abs, 'berth.dev.json'),
  };
}

/**
 * Where the launcher writes an attempt's output: `.berth/logs/<runId>.<attempt>.log`. One folder for all,
 * not one per run: creating a folder on every launch cost as much as a third of a spawn.
 */
export function attemptLogFile(paths: DevPaths, runId: string, attempt: number): string {
  return join(paths.logs, `${runId}.${attempt}.log`);
}

/** The log of an attempt, also where earlier berth versions put it (`.berth/logs/<runId>/<attempt>.log`). */
export function logFile(paths: DevPaths, runId: string, attempt: number): string {
  const file = attemptLogFile(paths, runId, attempt);
  if (existsSync(file)) return file;
  const old = join(paths.logs, runId, `${attempt}.log`);
  return existsSync(old) ? old : file;
}

/** Where the attempt wrapper writes an attempt's exit status: `.berth/exits/<runId>.<attempt>`. */
export function attemptExitFile(paths: DevPaths, runId: string, attempt: number): string {
  return join(paths.exits, `${runId}.${attempt}`);
}

/** Reads `.berth/engine.json` when the engine that wrote it is still alive. */
export function runningEngine(paths: Pick<DevPaths, 'engineFile'>): EngineInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(paths.engineFile, 'utf8')) as EngineInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

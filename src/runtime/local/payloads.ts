/**
 * Trigger payloads too large for the environment (`BERTH_TRIGGER_REF`) are written to
 * `.berth/payloads/<runId>.json` at each launch. The file is only read by the run's attempts, so it goes as
 * soon as the run is final; at start, files left behind (a crash between the end and the removal, or a
 * launch rolled back) are swept.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isFinalStatus } from '../../core/lifecycle/states.js';
import type { RunRecord } from '../ports.js';
import type { DevPaths } from './paths.js';

export function payloadFile(paths: DevPaths, runId: string): string {
  return join(paths.payloads, `${runId}.json`);
}

/** Removes the run's payload file once the run is final. */
export function dropPayloadIfFinal(paths: DevPaths, run: RunRecord): void {
  if (isFinalStatus(run.status)) rmSync(payloadFile(paths, run.runId), { force: true });
}

/** Removes every payload file whose run is final or gone. Returns how many went. */
export function sweepPayloads(paths: DevPaths, getRun: (runId: string) => RunRecord | undefined): number {
  let files: string[];
  try {
    files = readdirSync(paths.payloads);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of files) {
    if (!name.endsWith('.json')) continue;
    const run = getRun(name.slice(0, -'.json'.length));
    if (run && !isFinalStatus(run.status)) continue;
    rmSync(join(paths.payloads, name), { force: true });
    removed++;
  }
  return removed;
}

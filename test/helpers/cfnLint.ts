/** cfn-lint (`pip install cfn-lint`) on templates, for compiler and packaging tests. Never skipped: a missing cfn-lint fails. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Template } from '../../src/compiler/cfn.js';

export interface CfnLintResult {
  /** Exit status: 0 = clean; bit 2 = errors, 4 = warnings, 8 = informational. */
  status: number;
  /** stdout and stderr together; empty when clean. */
  output: string;
}

/** cfn-lint on a template file. */
export function cfnLint(file: string): CfnLintResult {
  const r = spawnSync('cfn-lint', ['-t', file], { encoding: 'utf8', timeout: 120_000 });
  if (r.error)
    throw new Error(`cfn-lint did not run (${r.error.message}) — install it with pip install cfn-lint`);
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** cfn-lint on a template object, written for the run to a fresh folder under `.tmp/` (removed after). */
export function cfnLintTemplate(template: Template, name: string): CfnLintResult {
  const tmp = resolve(import.meta.dirname, '../../.tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, 'cfn-lint-'));
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(template, null, 1));
  try {
    return cfnLint(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

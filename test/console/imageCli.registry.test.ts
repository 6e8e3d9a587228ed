/**
 * `berth image console` end to end (the real binary, a real registry): the console image for a project's
 * jobs and stage is pushed and its pinned reference is the last line; the pushed bundle carries that
 * project's jobs and stage; --stage and --push are required with the fix in the message. And `berth synth`
 * of a project with console.appRunner says how to fill BerthConsoleImage.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerthAsync } from '../cli/runCli.js';
import { type LocalRegistry, startRegistry } from '../helpers/registry.js';
import { pushTinyBase, type TinyBase } from '../image/baseImage.js';
import { readImage } from '../image/support.js';
import { jobFile, makeProject, removeProject } from '../loader/tmpProject.js';

let registry: LocalRegistry;
let base: TinyBase;
let root: string;
const temps: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  base = await pushTinyBase(registry.host, {
    repository: 'base/node',
    tag: 'tiny',
    architectures: ['amd64'],
  });
  root = makeProject('image-console', {
    'serverless.yml': `service: shop\ncustom:\n  berth:\n    console:\n      appRunner:\n        base: ${base.reference}\n`,
  });
  writeFileSync(
    join(root, 'jobs', 'nightly-report.ts'),
    jobFile({
      name: 'nightly-report',
      task: { image: 'node:22' },
      trigger: { schedule: { expression: 'rate(1 day)' } },
    }),
  );
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  if (root) removeProject(root);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('berth image console', { timeout: 120_000 }, () => {
  it('pushes the console image for the stage and prints the pinned reference last', async () => {
    const run = await runBerthAsync(
      ['image', 'console', '--stage', 'prod', '--push', `${registry.host}/berth/shop-prod/console`],
      { cwd: root },
    );
    expect(run.stderr).toMatch(/console \(1 job, stage prod\)/);
    expect(run.code).toBe(0);
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(
      new RegExp(`^${registry.host.replace('.', '\\.')}/berth/shop-prod/console@sha256:[a-f0-9]{64}$`),
    );
    const digest = last.split('@')[1]!;
    const { manifest, config, client } = await readImage(registry.host, 'berth/shop-prod/console', digest);
    expect(config.config?.Entrypoint).toEqual(['node', '/app/index.mjs']);
    const dir = mkdtempSync(join(tmpdir(), 'berth-console-cli-'));
    temps.push(dir);
    writeFileSync(
      join(dir, 'layer.tgz'),
      await client.getBlob('berth/shop-prod/console', manifest.layers.at(-1)!.digest),
    );
    execFileSync('tar', ['-xzf', join(dir, 'layer.tgz'), '-C', dir]);
    const code = readFileSync(join(dir, 'app/index.mjs'), 'utf8');
    expect(code).toContain('"nightly-report"');
    expect(code).toMatch(/"service":"shop","stage":"prod"/);
  });

  it('needs --stage and --push, and says so', async () => {
    const noStage = await runBerthAsync(['image', 'console', '--push', `${registry.host}/x`], { cwd: root });
    expect(noStage.code).not.toBe(0);
    expect(noStage.stderr).toMatch(/--stage: required/);
    const noPush = await runBerthAsync(['image', 'console', '--stage', 'prod'], { cwd: root });
    expect(noPush.code).not.toBe(0);
    expect(noPush.stderr).toMatch(/--push: required/);
  });

  it('berth synth tells how to fill BerthConsoleImage', async () => {
    const out = join(root, 'out', 'template.json');
    const run = await runBerthAsync(['synth', '--stage', 'prod', '--out', out], { cwd: root });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/berth image console --stage prod --push <its console repository uri>/);
    const template = JSON.parse(readFileSync(out, 'utf8')) as { Parameters: Record<string, unknown> };
    expect(template.Parameters.BerthConsoleImage).toBeDefined();
  });
});

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutcomeEvent } from '../../src/core/lifecycle/events.js';
import { loadSubscribers } from '../../src/loader/loadSubscribers.js';
import {
  defineSubscriber,
  runSubscriber,
  subscriberPattern,
  taskStoppedPattern,
} from '../../src/subscriber/index.js';

const event = (type: OutcomeEvent['detail-type'], job = 'nightly-report'): OutcomeEvent => ({
  source: 'berth',
  'detail-type': type,
  time: '2026-03-01T10:00:00Z',
  detail: { job, runId: 'r1', reason: 'exit 1' } as OutcomeEvent['detail'],
});

const tmp = join(process.cwd(), '.tmp', `subscribers-${process.pid}`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('defineSubscriber', () => {
  it('builds the rule pattern on berth’s bus and runs only for matching events', async () => {
    const seen: string[] = [];
    const sub = defineSubscriber(
      { on: ['Job Run Failed', 'Job Run Timed Out'], jobs: ['nightly-report'] },
      (e) => {
        // The event type is narrowed to the listed detail-types.
        const type: 'Job Run Failed' | 'Job Run Timed Out' = e['detail-type'];
        seen.push(`${type}:${e.detail.runId}`);
      },
    );
    expect(subscriberPattern(sub)).toEqual({
      source: ['berth'],
      'detail-type': ['Job Run Failed', 'Job Run Timed Out'],
      detail: { job: ['nightly-report'] },
    });
    expect(await runSubscriber(sub, event('Job Run Failed'))).toBe(true);
    expect(await runSubscriber(sub, event('Job Run Succeeded'))).toBe(false);
    expect(await runSubscriber(sub, event('Job Run Failed', 'other'))).toBe(false);
    expect(seen).toEqual(['Job Run Failed:r1']);
  });

  it('rejects unknown event types and empty lists', () => {
    // @ts-expect-error not an outcome event type
    expect(() => defineSubscriber({ on: ['Job Exploded'] }, () => {})).toThrow(
      /unknown event type Job Exploded/,
    );
    expect(() => defineSubscriber({ on: [] }, () => {})).toThrow(/on: is empty/);
  });

  it('gives the raw task-stopped pattern for berth’s tasks', () => {
    expect(taskStoppedPattern('arn:aws:ecs:us-east-1:123456789012:cluster/berth')).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: ['arn:aws:ecs:us-east-1:123456789012:cluster/berth'],
        startedBy: [{ prefix: 'berth/' }],
        lastStatus: ['STOPPED'],
      },
    });
  });

  it('loads subscribers/ and names each after its file', async () => {
    mkdirSync(join(tmp, 'subscribers'), { recursive: true });
    const src = join(process.cwd(), 'src', 'subscriber', 'index.ts');
    writeFileSync(
      join(tmp, 'subscribers', 'page-on-failure.ts'),
      `import { defineSubscriber } from ${JSON.stringify(src)};\nexport default defineSubscriber({ on: ['Job Run Failed'] }, () => {});\n`,
    );
    const loaded = await loadSubscribers(tmp);
    expect(loaded.map((l) => [l.file, l.name])).toEqual([
      ['subscribers/page-on-failure.ts', 'page-on-failure'],
    ]);
    writeFileSync(join(tmp, 'subscribers', 'broken.ts'), 'export default 42;\n');
    await expect(loadSubscribers(tmp)).rejects.toThrow(
      /subscribers\/broken.ts: \(file\): does not default-export/,
    );
  });

  it('the loader checks each permission statement and names the file', async () => {
    const root = join(tmp, 'permissions');
    mkdirSync(join(root, 'subscribers'), { recursive: true });
    const src = join(process.cwd(), 'src', 'subscriber', 'index.ts');
    writeFileSync(
      join(root, 'subscribers', 'page.ts'),
      `import { defineSubscriber } from ${JSON.stringify(src)};\nexport default defineSubscriber({ on: ['Job Run Failed'], permissions: [{ actions: ['publish'], resources: ['*'] }] }, () => {});\n`,
    );
    await expect(loadSubscribers(root)).rejects.toThrow(
      /^subscribers\/page\.ts: permissions\[0\]\.actions\[0\]: is not an IAM action/,
    );
  });
});

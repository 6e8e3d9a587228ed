/**
 * The console's AWS source without AWS: next fire times from the job files, and the inputs it refuses
 * before any call (a log cursor that is not a CloudWatch token, Run now for an S3 object, unknown jobs).
 * Every AWS client points at a closed port, so a call that slipped through would fail the test.
 */
import { describe, expect, it } from 'vitest';
import { AwsConsoleSource } from '../../src/console/awsSource.js';
import { job } from '../runtime/aws/support.js';

const NOW = new Date('2026-11-28T12:00:00.000Z');

function source(onPollError?: (m: string) => void) {
  return new AwsConsoleSource({
    ...(onPollError ? { onPollError } : {}),
    stage: 'prod',
    service: 'shop',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    resources: {
      runsTable: 'shop-prod-runs',
      launchQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-prod-launch',
      cluster: 'shop-prod',
    },
    jobs: [
      job({
        name: 'nightly',
        task: { image: 'node:22' },
        trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } },
      }),
      job({
        name: 'sync',
        task: { image: 'node:22' },
        trigger: {
          schedule: {
            expression: 'rate(6 hours)',
            startDate: '2026-12-01T01:30:00',
            endDate: '2026-12-01T20:00:00',
          },
        },
      }),
      job({ name: 'manual', task: { image: 'node:22' } }),
    ],
    now: () => NOW,
  });
}

describe('AwsConsoleSource', () => {
  it('computes next fire times from the job files: cron in its zone, rate from its start date, up to its end', () => {
    const s = source();
    expect(s.nextFireTimes('nightly', 2)).toEqual(['2026-11-28T17:00:00.000Z', '2026-11-29T17:00:00.000Z']);
    // AWS anchors a rate at its start date; nothing fires after the end date.
    expect(s.nextFireTimes('sync', 5)).toEqual([
      '2026-12-01T01:30:00.000Z',
      '2026-12-01T07:30:00.000Z',
      '2026-12-01T13:30:00.000Z',
      '2026-12-01T19:30:00.000Z',
    ]);
    expect(s.nextFireTimes('manual', 3)).toEqual([]);
    expect(s.nextFireTimes('nope', 3)).toEqual([]);
    expect(s.jobs().map((j) => j.name)).toEqual(['manual', 'nightly', 'sync']);
    expect(s.label).toBe('stage prod (us-east-1)');
  });

  it('refuses a log cursor that is not a CloudWatch token before reading anything', async () => {
    await expect(source().readLog('r1', 1, { offset: '123' })).rejects.toThrow(RangeError);
  });

  it('refuses Run now for an S3 object and unknown jobs, naming the fix', async () => {
    await expect(source().invoke('nightly', undefined, { s3: { key: 'a.jpg' } })).rejects.toMatchObject({
      name: 'ManualS3Error',
      message: expect.stringMatching(/put the object in the bucket/),
    });
    await expect(source().invoke('nope')).rejects.toThrow(/there is no job nope/);
    await expect(source().redriveQueue('manual')).rejects.toThrow(/no queue trigger/);
  });

  it('says once when the poll fails, and keeps polling', async () => {
    const errors: string[] = [];
    const events: unknown[] = [];
    const s = source((m) => errors.push(m));
    const stop = s.subscribe((e) => events.push(e));
    try {
      for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      await s.poll();
      expect(s.polls).toBe(2);
    } finally {
      stop();
    }
    expect(errors).toHaveLength(1);
    // Every open page hears it once too.
    expect(events).toEqual([{ type: 'problem', message: `Live updates failed: ${errors[0]}` }]);
    // No credentials here, or (with them) nothing listening: either way the error is named.
    expect(errors[0]).toMatch(/CredentialsProviderError|ECONNREFUSED/);
  }, 30_000);
});

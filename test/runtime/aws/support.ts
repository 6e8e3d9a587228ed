/** Shared test support for the AWS runtime: jobs, a manifest, a fake clock, a recording queue, fixtures. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OutcomeEvent } from '../../../src/core/lifecycle/events.js';
import type { Job, JobInput } from '../../../src/core/model/job.js';
import { validateJob } from '../../../src/core/model/validate.js';
import type { AwsRuntimeConfig } from '../../../src/runtime/aws/config.js';
import type { BerthManifest } from '../../../src/runtime/aws/manifest.js';
import type { EcsTaskStateChangeEvent } from '../../../src/runtime/aws/taskEvents.js';
import type { Clock, LaunchMessage, LaunchQueue } from '../../../src/runtime/ports.js';

export function fixture<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../fixtures/events/${path}`, import.meta.url)), 'utf8'),
  ) as T;
}

export function job(input: JobInput): Job {
  const result = validateJob(input, `jobs/${input.name}.ts`);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.job;
}

export const thumbnail = (overrides: Partial<JobInput> = {}): Job =>
  job({
    name: 'thumbnail',
    trigger: { s3: { bucket: 'amzn-s3-demo-bucket1' } },
    task: { image: 'public.ecr.aws/docker/library/node:22-alpine' },
    retry: { maxAttempts: 3, backoff: { minDelay: '1s', maxDelay: '1s', factor: 1, jitter: 0 }, rules: [] },
    timeout: '1h',
    ...overrides,
  } as JobInput);

export function manifest(jobs: Job[], queues: Record<string, string> = {}): BerthManifest {
  return {
    version: 1,
    service: 'berth-demo',
    stage: 'test',
    jobs,
    tasks: Object.fromEntries(
      jobs.map((j) => [
        j.name,
        {
          family: `berth-demo-test-${j.name}`,
          containerName: 'main',
          logGroup: `/berth/${j.name}`,
          hasTaskRole: false,
        },
      ]),
    ),
    queues,
  };
}

export const config: AwsRuntimeConfig = {
  region: 'us-east-1',
  cluster: 'berth-demo',
  runsTable: 'berth-demo-runs',
  eventBus: 'berth-demo',
  launchQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/berth-demo-launch',
  launchQueueArn: 'arn:aws:sqs:us-east-1:123456789012:berth-demo-launch',
  subnets: ['subnet-0a1b2c3d'],
  securityGroups: ['sg-0a1b2c3d'],
  assignPublicIp: false,
  scheduleGroup: 'berth-demo',
  schedulerRoleArn: 'arn:aws:iam::123456789012:role/berth-demo-scheduler',
  runTtlDays: 30,
};

export class FakeClock implements Clock {
  constructor(public at = new Date('2026-03-01T10:00:00.000Z')) {}
  now(): Date {
    return new Date(this.at);
  }
  random(): number {
    return 0.5;
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

export class RecordingQueue implements LaunchQueue {
  readonly sent: { message: LaunchMessage; delayMs: number }[] = [];
  async enqueue(message: LaunchMessage, delayMs: number): Promise<void> {
    this.sent.push({ message, delayMs });
  }
}

export class RecordingPublisher {
  readonly events: OutcomeEvent[] = [];
  async publish(event: OutcomeEvent): Promise<void> {
    this.events.push(event);
  }
  types(): string[] {
    return this.events.map((e) => e['detail-type']);
  }
}

/** An SQS record as the Lambda ESM delivers it. */
export function sqsRecord(body: unknown, queueArn = config.launchQueueArn, messageId = 'm-1') {
  return {
    messageId,
    receiptHandle: 'MessageReceiptHandle',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1523232000000',
      SenderId: '123456789012',
      ApproximateFirstReceiveTimestamp: '1523232000001',
    },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** A stop event from a fixture, re-pointed at a run and attempt. */
export function stopEvent(name: string, runId: string, attempt: number, taskArn?: string) {
  const event = fixture<EcsTaskStateChangeEvent>(`ecs/${name}.json`);
  event.detail.startedBy = `berth/${runId}`;
  if (taskArn) event.detail.taskArn = taskArn;
  for (const o of event.detail.overrides?.containerOverrides ?? [])
    for (const v of o.environment ?? []) {
      if (v.name === 'BERTH_ATTEMPT') v.value = String(attempt);
      if (v.name === 'BERTH_RUN_ID') v.value = runId;
    }
  return event;
}

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are expected values here
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../src/compiler/errors.js';
import { compileQueue } from '../../src/compiler/queue.js';
import { compileS3Trigger, keyFilter, s3InputTemplate } from '../../src/compiler/s3Trigger.js';
import { compileSchedule, toUtcDate } from '../../src/compiler/schedule.js';
import type { JobTrigger } from '../../src/core/model/job.js';
import { context, job, resource } from './helpers.js';

const trigger = <K extends JobTrigger['kind']>(j: { triggers: JobTrigger[] }, kind: K) =>
  j.triggers.find((t) => t.kind === kind) as Extract<JobTrigger, { kind: K }>;

describe('compileS3Trigger', () => {
  it('matches Object Created on the bucket with prefix and suffix in one wildcard, into the launch queue', () => {
    const j = job({
      name: 'thumbnail',
      trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } },
    });
    const r = compileS3Trigger(j, trigger(j, 's3'), 0, context());
    const p = resource(r, 'BerthJobThumbnailS3Rule0', 'AWS::Events::Rule').Properties!;
    expect(p.Name).toBe('svc-dev__thumbnail-s3-0');
    expect(p.EventBusName).toBeUndefined(); // S3 sends to the default bus
    expect(p.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['uploads'] }, object: { key: [{ wildcard: 'images/*.jpg' }] } },
    });
    const [target] = p.Targets as Record<string, unknown>[];
    expect(target).toMatchObject({
      Arn: { 'Fn::GetAtt': ['BerthLaunchQueue', 'Arn'] },
      InputTransformer: { InputTemplate: '{"type":"s3","job":"thumbnail","event":<aws.events.event.json>}' },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['BerthLaunchDeadLetterQueue', 'Arn'] } },
    });
  });

  it('uses prefix or suffix alone, escapes wildcard characters, and matches the whole bucket without a filter', () => {
    expect(keyFilter({ prefix: 'in/' })).toEqual([{ prefix: 'in/' }]);
    expect(keyFilter({ suffix: '.csv' })).toEqual([{ suffix: '.csv' }]);
    expect(keyFilter({ prefix: 'a*b/', suffix: '.x' })).toEqual([{ wildcard: 'a\\*b/*.x' }]);
    expect(keyFilter({})).toBeUndefined();
    // The template is valid JSON once EventBridge substitutes the placeholder.
    expect(JSON.parse(s3InputTemplate('a').replace('<aws.events.event.json>', '{}'))).toEqual({
      type: 's3',
      job: 'a',
      event: {},
    });
  });
});

describe('compileSchedule', () => {
  const j = job({
    name: 'nightly',
    trigger: {
      schedule: {
        expression: 'cron(0 2 * * ? *)',
        timezone: 'Asia/Seoul',
        flexibleWindow: '15m',
        payload: { report: 'daily' },
        startDate: '2027-01-01T00:00:00',
      },
    },
  });

  it('schedules in berth group and time zone, sending the scheduled time as idempotency key', () => {
    const r = compileSchedule(j, trigger(j, 'schedule'), 0, context());
    const p = resource(r, 'BerthJobNightlySchedule0', 'AWS::Scheduler::Schedule').Properties!;
    expect(p).toMatchObject({
      Name: 'nightly-schedule-0',
      GroupName: { Ref: 'BerthScheduleGroup' },
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Seoul',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      StartDate: '2026-12-31T15:00:00Z',
    });
    const target = p.Target as Record<string, unknown>;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': ['BerthLaunchQueue', 'Arn'] });
    expect(target.RoleArn).toEqual({ 'Fn::GetAtt': ['BerthSchedulerRole', 'Arn'] });
    expect(target.SqsParameters).toBeUndefined();
    expect(JSON.parse(target.Input as string)).toEqual({
      type: 'schedule',
      job: 'nightly',
      scheduleId: 'schedule-0',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      payload: { report: 'daily' },
    });
  });

  it('turns the flexible window off by default and converts dates across DST', () => {
    const k = job({ name: 'k', trigger: { schedule: { expression: 'rate(5 minutes)' } } });
    const p = resource(compileSchedule(k, trigger(k, 'schedule'), 0, context()), 'BerthJobKSchedule0')
      .Properties!;
    expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(toUtcDate('2027-07-01T09:00:00', 'Europe/Berlin')).toBe('2027-07-01T07:00:00Z');
    expect(toUtcDate('2027-01-01T09:00:00', 'Europe/Berlin')).toBe('2027-01-01T08:00:00Z');
    expect(toUtcDate('2027-01-01T09:00:00+02:00', 'Europe/Berlin')).toBe('2027-01-01T07:00:00Z');
  });

  it('reads a date in a DST overlap or gap as at(...) times are read', () => {
    // Fall-back overlap: the earlier of the two instants.
    expect(toUtcDate('2026-10-25T02:30:00', 'Europe/Berlin')).toBe('2026-10-25T00:30:00Z');
    expect(toUtcDate('2026-11-01T01:30:00', 'America/New_York')).toBe('2026-11-01T05:30:00Z');
    // Spring-forward gap: shifted forward by the gap (02:30 → 03:30 local).
    expect(toUtcDate('2026-03-29T02:30:00', 'Europe/Berlin')).toBe('2026-03-29T01:30:00Z');
    expect(toUtcDate('2026-03-08T02:30:00', 'America/New_York')).toBe('2026-03-08T07:30:00Z');
  });
});

describe('compileQueue', () => {
  it("creates the job's queue and DLQ and maps it to the launcher with partial batch responses", () => {
    const j = job({
      name: 'orders',
      maxConcurrency: 5,
      trigger: { queue: { batchSize: 2, maxReceiveCount: 4, visibilityTimeout: '6m' } },
    });
    const r = compileQueue(j, trigger(j, 'queue'), context());
    expect(Object.keys(r).sort()).toEqual([
      'BerthJobOrdersDeadLetterQueue',
      'BerthJobOrdersQueue',
      'BerthJobOrdersQueueMapping',
    ]);
    expect(resource(r, 'BerthJobOrdersQueue', 'AWS::SQS::Queue').Properties).toMatchObject({
      QueueName: 'svc-dev__orders',
      VisibilityTimeout: 360,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': ['BerthJobOrdersDeadLetterQueue', 'Arn'] },
        maxReceiveCount: 4,
      },
    });
    expect(resource(r, 'BerthJobOrdersQueueMapping', 'AWS::Lambda::EventSourceMapping').Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': ['BerthJobOrdersQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['BerthLauncherLambdaFunction', 'Arn'] },
      BatchSize: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
      Enabled: true,
    });
  });

  it('makes FIFO pairs, maps an existing queue only, and keeps MaximumConcurrency ≥ 2', () => {
    const f = job({ name: 'f', maxConcurrency: 1, trigger: { queue: { fifo: true } } });
    const rf = compileQueue(f, trigger(f, 'queue'), context());
    expect(resource(rf, 'BerthJobFQueue').Properties).toMatchObject({
      QueueName: 'svc-dev__f.fifo',
      FifoQueue: true,
    });
    expect(resource(rf, 'BerthJobFDeadLetterQueue').Properties).toMatchObject({ FifoQueue: true });
    expect(resource(rf, 'BerthJobFQueueMapping').Properties!.ScalingConfig).toEqual({
      MaximumConcurrency: 2,
    });

    const arn = 'arn:aws:sqs:us-east-1:123456789012:incoming';
    const e = job({ name: 'e', trigger: { queue: { existing: arn } } });
    const re = compileQueue(e, trigger(e, 'queue'), context());
    expect(Object.keys(re)).toEqual(['BerthJobEQueueMapping']);
    expect(re.BerthJobEQueueMapping!.Properties!.EventSourceArn).toBe(arn);
    const n = job({ name: 'n', trigger: { queue: { existing: 'by-name' } } });
    expect(
      compileQueue(n, trigger(n, 'queue'), context()).BerthJobNQueueMapping!.Properties!.EventSourceArn,
    ).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:by-name',
    });
  });

  it('refuses a visibility timeout shorter than 6× the launcher timeout', () => {
    const j = job({ name: 'q', trigger: { queue: { visibilityTimeout: '1m' } } });
    expect(() => compileQueue(j, trigger(j, 'queue'), context())).toThrow(CompileError);
    expect(() => compileQueue(j, trigger(j, 'queue'), context())).toThrow(/use at least '3m'/);
  });
});

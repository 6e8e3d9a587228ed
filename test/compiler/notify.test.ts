/** Per-job notify: the owned topic, its policy, and the rule on berth's bus that publishes to every topic. */
import { describe, expect, it } from 'vitest';
import { compileService } from '../../src/compiler/compile.js';
import { CompileError } from '../../src/compiler/errors.js';
import { lambdaStatements } from '../../src/compiler/iam.js';
import { compileNotify, NOTIFY_INPUT_TRANSFORMER, notifyEventTypes } from '../../src/compiler/notify.js';
import { context, job, resource } from './helpers.js';

const OPS = 'arn:aws:sns:us-east-1:123456789012:ops';
const report = job({
  name: 'nightly-report',
  trigger: { schedule: { expression: 'cron(0 2 * * ? *)' } },
  notify: { on: ['failed', 'timed_out', 'retrying'], sns: [OPS], email: ['ops@example.com'] },
});

describe('compileNotify', () => {
  const r = compileNotify(report, context());

  it('creates the topic with the email subscriptions', () => {
    expect(resource(r, 'BerthJobNightlyReportNotifyTopic', 'AWS::SNS::Topic').Properties).toEqual({
      TopicName: 'svc-dev__nightly-report-notify',
      Subscription: [{ Protocol: 'email', Endpoint: 'ops@example.com' }],
    });
  });

  it('matches the job outcome types on berth bus and targets both topics through the input transformer', () => {
    const p = resource(r, 'BerthJobNightlyReportNotifyRule', 'AWS::Events::Rule').Properties!;
    expect(p.Name).toBe('svc-dev__nightly-report-notify');
    expect(p.EventBusName).toEqual({ Ref: 'BerthEventBus' });
    expect(p.EventPattern).toEqual({
      source: ['berth'],
      'detail-type': ['Job Run Failed', 'Job Run Timed Out', 'Job Run Retrying'],
      detail: { job: ['nightly-report'] },
    });
    const targets = p.Targets as { Id: string; Arn: unknown; InputTransformer: unknown }[];
    expect(targets.map((t) => [t.Id, t.Arn])).toEqual([
      ['topic0', { Ref: 'BerthJobNightlyReportNotifyTopic' }],
      ['topic1', OPS],
    ]);
    for (const t of targets)
      expect(t.InputTransformer).toEqual({
        InputPathsMap: {
          job: '$.detail.job',
          runId: '$.detail.runId',
          status: '$.detail.status',
          outcome: '$.detail.outcome',
          exitCode: '$.detail.exitCode',
          reason: '$.detail.reason',
        },
        InputTemplate: 'berth: job <job> run <runId> <status> (<outcome>, exit <exitCode>): <reason>',
      });
  });

  it('lets EventBridge publish to the owned topic for this rule only', () => {
    expect(resource(r, 'BerthJobNightlyReportNotifyTopicPolicy', 'AWS::SNS::TopicPolicy').Properties).toEqual(
      {
        Topics: [{ Ref: 'BerthJobNightlyReportNotifyTopic' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'BerthNotifyRule',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: 'BerthJobNightlyReportNotifyTopic' },
              Condition: {
                ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['BerthJobNightlyReportNotifyRule', 'Arn'] } },
              },
            },
          ],
        },
      },
    );
  });

  it('with topic ARNs only: a rule and nothing berth would own', () => {
    const j = job({ name: 'orders', trigger: { queue: {} }, notify: { sns: [OPS] } });
    const only = compileNotify(j, context());
    expect(Object.keys(only)).toEqual(['BerthJobOrdersNotifyRule']);
    expect(only.BerthJobOrdersNotifyRule!.Properties!.EventPattern).toMatchObject({
      'detail-type': ['Job Run Failed', 'Job Run Timed Out'], // the default notify.on
    });
  });

  it('splits more than 5 topics over several rules (EventBridge allows 5 targets per rule)', () => {
    const sns = Array.from({ length: 7 }, (_, i) => `arn:aws:sns:us-east-1:123456789012:t${i}`);
    const j = job({ name: 'orders', trigger: { queue: {} }, notify: { sns } });
    const many = compileNotify(j, context());
    expect(Object.keys(many)).toEqual(['BerthJobOrdersNotifyRule', 'BerthJobOrdersNotifyRule2']);
    expect((many.BerthJobOrdersNotifyRule!.Properties!.Targets as unknown[]).length).toBe(5);
    expect(many.BerthJobOrdersNotifyRule2!.Properties!).toMatchObject({
      Name: 'svc-dev__orders-notify-2',
      Targets: [{ Id: 'topic5' }, { Id: 'topic6' }],
    });
  });

  it('refuses a FIFO topic, naming the file and the fix', () => {
    const j = job({
      name: 'orders',
      trigger: { queue: {} },
      notify: { sns: ['arn:aws:sns:us-east-1:123456789012:alerts.fifo'] },
    });
    expect(() => compileNotify(j, context())).toThrow(CompileError);
    expect(() => compileNotify(j, context())).toThrow(
      /jobs\/orders.ts: notify.sns: .*alerts.fifo is a FIFO topic/,
    );
  });

  it('maps every notify state to its outcome event type', () => {
    expect(notifyEventTypes(['succeeded', 'failed', 'timed_out', 'cancelled', 'retrying'])).toEqual([
      'Job Run Succeeded',
      'Job Run Failed',
      'Job Run Timed Out',
      'Job Run Cancelled',
      'Job Run Retrying',
    ]);
    expect(NOTIFY_INPUT_TRANSFORMER.InputTemplate.length).toBeLessThanOrEqual(8192);
  });
});

describe('notify in the compiled service', () => {
  it('counts the topic, its policy and the rule in the job numbers, and grants no Lambda sns:Publish', () => {
    const quiet = { ...report, notify: undefined };
    const compiled = compileService({ jobs: [report], service: 'svc', stage: 'dev' });
    const without = compileService({ jobs: [quiet], service: 'svc', stage: 'dev' });
    // Task definition + task role + schedule, then topic + topic policy + rule.
    expect(compiled.perJob['nightly-report']).toBe(6);
    expect(compiled.perJob['nightly-report']! - without.perJob['nightly-report']!).toBe(3);
    expect(Object.keys(compiled.resources).length - Object.keys(without.resources).length).toBe(3);
    for (const fn of ['launcher', 'interceptor', 'sweeper'] as const)
      for (const s of lambdaStatements(fn, [report], context()))
        expect(s.Action).not.toContain('sns:Publish');
  });
});

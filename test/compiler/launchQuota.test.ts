/**
 * Issue 12, defects 9 and 10 in the template: an alarm on the launch queue's dead-letter queue, and the
 * launcher's share of the Fargate RunTask quota (how many launcher instances can run at once).
 */
import { describe, expect, it } from 'vitest';
import { compileService } from '../../src/compiler/compile.js';
import { launcherInstances } from '../../src/compiler/functions.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { BERTH_ENV } from '../../src/runtime/aws/manifest.js';
import { cfnLintTemplate } from '../helpers/cfnLint.js';
import { context, IMAGE, job } from './helpers.js';

const ASSETS = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };
const jobs = [
  job({ name: 'report', task: { image: IMAGE } }),
  job({ name: 'orders', trigger: { queue: {} }, maxConcurrency: 4 }),
  job({ name: 'emails', trigger: { queue: {} } }),
  job({ name: 'mailer', trigger: { queue: { mode: 'service' } } }),
];
const compiled = compileService({ service: 'shop', stage: 'dev', config: { launcherConcurrency: 6 }, jobs });

describe('launch queue dead letters and the RunTask quota', () => {
  it('alarms as soon as one message waits in the launch dead-letter queue', () => {
    const alarm = compiled.resources.BerthLaunchDeadLetterAlarm;
    expect(alarm?.Type).toBe('AWS::CloudWatch::Alarm');
    expect(alarm?.Properties).toMatchObject({
      AlarmName: 'shop-dev__launch-dlq-not-empty',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': ['BerthLaunchDeadLetterQueue', 'QueueName'] } },
      ],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(String(alarm?.Properties?.AlarmDescription)).toContain('berth redrive launch-queue --stage');
  });

  it('tells every launcher how many launcher instances share the quota: the launch mapping plus each job queue mapping', () => {
    // 6 (launch queue) + 4 (orders: its maxConcurrency) + 10 (emails: the default); the service worker has none.
    expect(launcherInstances(context({ launcherConcurrency: 6 }), jobs)).toBe(20);
    const launcher = compiled.functions.find((f) => f.kind === 'launcher');
    expect(launcher?.environment[BERTH_ENV.launchConcurrency]).toBe('20');
    const mappings = Object.values(compiled.resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
    );
    const total = mappings.reduce(
      (n, m) =>
        n + Number((m.Properties!.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency),
      0,
    );
    expect(total).toBe(20);
  });

  it('passes cfn-lint', () => {
    expect(cfnLintTemplate(synthesizeTemplate(compiled, ASSETS).template, 'launch-quota')).toEqual({
      status: 0,
      output: '',
    });
  }, 120_000);
});

/** Service-mode queue jobs: the ECS service, its scaling, its queue, its task definition; cfn-lint on the whole. */
import { describe, expect, it } from 'vitest';
import type { CfnValue, Resources } from '../../src/compiler/cfn.js';
import { compileService } from '../../src/compiler/compile.js';
import { logicalIds } from '../../src/compiler/naming.js';
import { serviceLogicalIds as ids, WORKER_STOP_TIMEOUT_SECONDS } from '../../src/compiler/service.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { cfnLintTemplate } from '../helpers/cfnLint.js';
import { job, resource } from './helpers.js';

const ASSETS = { launcher: 'launcher-x.zip', interceptor: 'interceptor-x.zip', sweeper: 'sweeper-x.zip' };

function lint(compiled: ReturnType<typeof compileService>, name: string) {
  return cfnLintTemplate(synthesizeTemplate(compiled, ASSETS).template, `service-${name}`);
}

const props = (r: Resources, id: string, type?: string) =>
  resource(r, id, type).Properties as Record<string, unknown>;

describe('compileWorkerService: the default service job', () => {
  const worker = job({
    name: 'email-sender',
    trigger: { queue: { mode: 'service', visibilityTimeout: '1m' } },
    task: { image: 'i', command: ['node', 'worker.mjs'] },
  });
  const compiled = compileService({ jobs: [worker], service: 'shop', stage: 'dev' });
  const r = compiled.resources;

  it('costs 7 resources: queue, dead-letter queue, task definition, task role, service, scalable target, backlog policy', () => {
    expect(compiled.perJob['email-sender']).toBe(7);
    expect(
      Object.keys(r)
        .filter((id) => id.startsWith('BerthJobEmailSender'))
        .sort(),
    ).toEqual(
      [
        logicalIds.jobQueue('email-sender'),
        logicalIds.jobDeadLetterQueue('email-sender'),
        logicalIds.taskDefinition('email-sender'),
        logicalIds.taskRole('email-sender'),
        ids.service('email-sender'),
        ids.scalableTarget('email-sender'),
        ids.backlogPolicy('email-sender'),
      ].sort(),
    );
  });

  it('has no Lambda event source mapping: the workers poll the queue', () => {
    expect(r[logicalIds.jobQueueMapping('email-sender')]).toBeUndefined();
    expect(Object.values(r).filter((x) => x.Type === 'AWS::Lambda::EventSourceMapping')).toHaveLength(1); // launch queue only
  });

  it('keeps the dead-letter queue and redrive of task-per-message jobs', () => {
    const queue = props(r, logicalIds.jobQueue('email-sender'), 'AWS::SQS::Queue');
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalIds.jobDeadLetterQueue('email-sender'), 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queue.VisibilityTimeout).toBe(60);
    expect(queue.ReceiveMessageWaitTimeSeconds).toBe(20);
  });

  it('runs an awsvpc ECS service with a circuit breaker that rolls back, on Fargate', () => {
    const service = props(r, ids.service('email-sender'), 'AWS::ECS::Service');
    expect(service.DeploymentConfiguration).toMatchObject({
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
    });
    expect(service.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE', Weight: 1 }]);
    expect(service.NetworkConfiguration).toMatchObject({
      AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' },
    });
    expect(service.LaunchType).toBeUndefined();
    // Auto scaling owns the count: a DesiredCount would reset the fleet on every deploy.
    expect(service.DesiredCount).toBeUndefined();
    expect(service.Tags).toContainEqual({ Key: 'berth:mode', Value: 'service' });
  });

  it('scales between min and max tasks on the service', () => {
    expect(props(r, ids.scalableTarget('email-sender'))).toMatchObject({
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 1,
      MaxCapacity: 10,
      ResourceId: {
        'Fn::Join': [
          '/',
          ['service', { Ref: 'BerthCluster' }, { 'Fn::GetAtt': [ids.service('email-sender'), 'Name'] }],
        ],
      },
    });
  });

  it('tracks backlog per task with metric math: visible messages ÷ running tasks', () => {
    const policy = props(r, ids.backlogPolicy('email-sender'), 'AWS::ApplicationAutoScaling::ScalingPolicy');
    expect(policy.PolicyType).toBe('TargetTrackingScaling');
    const config = policy.TargetTrackingScalingPolicyConfiguration as Record<string, unknown>;
    expect(config).toMatchObject({ TargetValue: 10, ScaleInCooldown: 300, ScaleOutCooldown: 60 });
    const metrics = (config.CustomizedMetricSpecification as { Metrics: Record<string, unknown>[] }).Metrics;
    expect(metrics.map((m) => m.Id)).toEqual(['visible', 'running', 'backlog']);
    expect(metrics[0]).toMatchObject({
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [
            {
              Name: 'QueueName',
              Value: { 'Fn::GetAtt': [logicalIds.jobQueue('email-sender'), 'QueueName'] },
            },
          ],
        },
      },
      ReturnData: false,
    });
    expect(metrics[1]).toMatchObject({
      MetricStat: { Metric: { Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount' } },
    });
    expect(metrics[2]).toMatchObject({ Expression: 'visible / running', ReturnData: true });
  });

  it('turns Container Insights on for the RunningTaskCount metric', () => {
    expect(props(r, 'BerthCluster').ClusterSettings).toEqual([
      { Name: 'containerInsights', Value: 'enabled' },
    ]);
  });

  it('gives the worker its queue URL, the two-minute stop timeout and queue-only permissions', () => {
    const td = props(r, logicalIds.taskDefinition('email-sender'));
    const container = (td.ContainerDefinitions as Record<string, unknown>[])[0];
    expect(container?.StopTimeout).toBe(WORKER_STOP_TIMEOUT_SECONDS);
    expect(container?.Environment).toEqual(
      expect.arrayContaining([
        { Name: 'BERTH_MODE', Value: 'service' },
        { Name: 'BERTH_QUEUE_URL', Value: { Ref: logicalIds.jobQueue('email-sender') } },
      ]),
    );
    expect(td.RequiresCompatibilities).toEqual(['FARGATE']);
    const role = props(r, logicalIds.taskRole('email-sender'));
    const statement = (role.Policies as { PolicyDocument: { Statement: Record<string, unknown>[] } }[])[0]
      ?.PolicyDocument.Statement[0];
    expect(statement).toEqual({
      Sid: 'WorkerQueue',
      Effect: 'Allow',
      Action: [
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
      ],
      Resource: [{ 'Fn::GetAtt': [logicalIds.jobQueue('email-sender'), 'Arn'] }],
    });
    expect(td.TaskRoleArn).toEqual({ 'Fn::GetAtt': [logicalIds.taskRole('email-sender'), 'Arn'] });
  });

  it('passes cfn-lint', () => {
    expect(lint(compiled, 'default')).toEqual({ status: 0, output: '' });
  });
});

describe('compileWorkerService: every option', () => {
  const worker = job({
    name: 'resize',
    trigger: {
      queue: {
        mode: 'service',
        service: {
          minTasks: 0,
          maxTasks: 40,
          backlogPerTask: 25,
          stepScaling: [
            { visibleAtLeast: 5000, addTasks: 10 },
            { visibleAtLeast: 500, addTasks: 3 },
          ],
          cpuTarget: 70,
          memoryTarget: 80,
          windows: [
            { cron: 'cron(0 8 ? * MON-FRI *)', timezone: 'Europe/Paris', minTasks: 5, maxTasks: 40 },
            { cron: 'cron(0 20 ? * MON-FRI *)', timezone: 'Europe/Paris', minTasks: 0, maxTasks: 10 },
          ],
          scaleInCooldown: '10m',
          scaleOutCooldown: '30s',
        },
      },
    },
    task: {
      image: 'i',
      capacity: 'FARGATE_SPOT_WITH_FALLBACK',
      permissions: [{ actions: ['s3:PutObject'], resources: ['arn:aws:s3:::out/*'] }],
    },
  });
  const compiled = compileService({ jobs: [worker], service: 'shop', stage: 'dev' });
  const r = compiled.resources;

  it('costs 13 resources with every option and its own task role, fewer than CDK QueueProcessingFargateService (16)', () => {
    expect(compiled.perJob.resize).toBe(13);
  });

  it('writes the scaling windows as scheduled actions with a time zone', () => {
    expect(props(r, ids.scalableTarget('resize')).ScheduledActions).toEqual([
      {
        ScheduledActionName: 'resize-window-0',
        Schedule: 'cron(0 8 ? * MON-FRI *)',
        Timezone: 'Europe/Paris',
        ScalableTargetAction: { MinCapacity: 5, MaxCapacity: 40 },
      },
      {
        ScheduledActionName: 'resize-window-1',
        Schedule: 'cron(0 20 ? * MON-FRI *)',
        Timezone: 'Europe/Paris',
        ScalableTargetAction: { MinCapacity: 0, MaxCapacity: 10 },
      },
    ]);
    expect(props(r, ids.scalableTarget('resize')).MinCapacity).toBe(0);
  });

  it('wakes a service scaled to zero when messages wait and no worker runs', () => {
    const alarm = props(r, ids.wakeAlarm('resize'), 'AWS::CloudWatch::Alarm');
    expect(alarm.AlarmActions).toEqual([{ Ref: ids.wakePolicy('resize') }]);
    const metrics = alarm.Metrics as Record<string, unknown>[];
    expect(metrics[2]).toMatchObject({
      Expression: 'IF(visible >= 1 AND FILL(running, 0) < 1, 1, 0)',
      ReturnData: true,
    });
    expect(props(r, ids.wakePolicy('resize')).StepScalingPolicyConfiguration).toMatchObject({
      AdjustmentType: 'ChangeInCapacity',
      StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
    });
  });

  it('steps on ApproximateNumberOfMessagesVisible with bounds relative to the first threshold', () => {
    const alarm = props(r, ids.stepAlarm('resize'), 'AWS::CloudWatch::Alarm');
    expect(alarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 500,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: ids.stepPolicy('resize') }],
    });
    expect(props(r, ids.stepPolicy('resize')).StepScalingPolicyConfiguration).toMatchObject({
      Cooldown: 30,
      StepAdjustments: [
        { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 4500, ScalingAdjustment: 3 },
        { MetricIntervalLowerBound: 4500, ScalingAdjustment: 10 },
      ],
    });
  });

  it('tracks CPU and memory when asked', () => {
    const spec = (id: string) =>
      (props(r, id).TargetTrackingScalingPolicyConfiguration as Record<string, CfnValue>)
        .PredefinedMetricSpecification;
    expect(spec(ids.cpuPolicy('resize'))).toEqual({
      PredefinedMetricType: 'ECSServiceAverageCPUUtilization',
    });
    expect(spec(ids.memoryPolicy('resize'))).toEqual({
      PredefinedMetricType: 'ECSServiceAverageMemoryUtilization',
    });
  });

  it('keeps one on-demand worker and puts most others on Spot', () => {
    expect(props(r, ids.service('resize')).CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE', Base: 1, Weight: 1 },
      { CapacityProvider: 'FARGATE_SPOT', Weight: 4 },
    ]);
  });

  it('adds the queue statement to the task role the job already has', () => {
    const role = props(r, logicalIds.taskRole('resize'));
    const statements = (role.Policies as { PolicyDocument: { Statement: Record<string, unknown>[] } }[])[0]
      ?.PolicyDocument.Statement;
    expect(statements?.map((s) => s.Sid ?? (s.Action as string[])[0])).toEqual([
      's3:PutObject',
      'WorkerQueue',
    ]);
  });

  it('passes cfn-lint', () => {
    expect(lint(compiled, 'all-options')).toEqual({ status: 0, output: '' });
  });
});

describe('service-mode jobs next to task-per-message jobs', () => {
  it('leave task-mode queue jobs unchanged and keep Container Insights off without services', () => {
    const plain = compileService({
      jobs: [job({ name: 'orders', trigger: { queue: {} } })],
      service: 's',
      stage: 'd',
    });
    expect(plain.resources[logicalIds.jobQueueMapping('orders')]?.Type).toBe(
      'AWS::Lambda::EventSourceMapping',
    );
    expect(props(plain.resources, 'BerthCluster').ClusterSettings).toEqual([
      { Name: 'containerInsights', Value: 'disabled' },
    ]);
  });

  it('works with an existing queue: URL and ARN built from its name', () => {
    const compiled = compileService({
      jobs: [job({ name: 'ext', trigger: { queue: { mode: 'service', existing: 'incoming' } } })],
      service: 's',
      stage: 'd',
    });
    const r = compiled.resources;
    expect(r[logicalIds.jobQueue('ext')]).toBeUndefined();
    const container = (
      props(r, logicalIds.taskDefinition('ext')).ContainerDefinitions as Record<string, unknown>[]
    )[0];
    expect(container?.Environment).toContainEqual({
      Name: 'BERTH_QUEUE_URL',
      Value: { 'Fn::Sub': `https://sqs.\${AWS::Region}.\${AWS::URLSuffix}/\${AWS::AccountId}/incoming` },
    });
    expect(lint(compiled, 'existing-queue')).toEqual({ status: 0, output: '' });
  });
});

/**
 * Per queue job in `mode: 'service'`: the job's queue and dead-letter queue (no Lambda mapping: the workers
 * poll), an ECS service of long-running workers, and its Application Auto Scaling:
 *
 * - a scalable target between `minTasks` and `maxTasks`, carrying the scheduled scaling windows;
 * - target tracking on backlog per task (queue depth ÷ running workers, CloudWatch metric math);
 * - with `minTasks: 0`, a wake-up step policy: target tracking cannot act on zero workers;
 * - optional step scaling on ApproximateNumberOfMessagesVisible, and CPU / memory target tracking.
 *
 * Six resources for the default service job (queue, dead-letter queue, task definition, service, scalable
 * target, backlog policy); at most twelve with every option. CDK's QueueProcessingFargateService spends 15–16.
 */
import { parseDuration } from '../core/duration.js';
import { formatJobIssue } from '../core/errors.js';
import type { Job, JobTrigger } from '../core/model/job.js';
import { isEc2Capacity } from '../core/model/task.js';
import { type ResolvedServiceOptions, serviceOptionsOf } from '../core/scaling/backlog.js';
import { type CfnValue, getAtt, join, type Resources, ref } from './cfn.js';
import { stepScalingIssue } from './checks.js';
import type { CompileContext } from './context.js';
import { ec2CapacityProviderStrategy } from './ec2Capacity.js';
import { CompileError } from './errors.js';
import { logicalIds, pascal } from './naming.js';
import { taskNetwork } from './network.js';
import { jobQueueResources } from './queue.js';
import { ECS_TASKS_TRUST } from './taskDefinition.js';

type QueueJobTrigger = Extract<JobTrigger, { kind: 'queue' }>;

/** Container stop timeout for workers: Spot's two-minute warning, the most ECS allows. */
export const WORKER_STOP_TIMEOUT_SECONDS = 120;

/** Logical ids of a service-mode job's resources (the queue and task definition keep the shared ids). */
export const serviceLogicalIds = {
  service: (job: string) => `BerthJob${pascal(job)}Service`,
  scalableTarget: (job: string) => `BerthJob${pascal(job)}ScalableTarget`,
  backlogPolicy: (job: string) => `BerthJob${pascal(job)}BacklogScaling`,
  wakePolicy: (job: string) => `BerthJob${pascal(job)}WakeScaling`,
  wakeAlarm: (job: string) => `BerthJob${pascal(job)}WakeAlarm`,
  stepPolicy: (job: string) => `BerthJob${pascal(job)}StepScaling`,
  stepAlarm: (job: string) => `BerthJob${pascal(job)}StepAlarm`,
  cpuPolicy: (job: string) => `BerthJob${pascal(job)}CpuScaling`,
  memoryPolicy: (job: string) => `BerthJob${pascal(job)}MemoryScaling`,
} as const;

/** True for a job whose queue trigger runs in service mode. */
export function isServiceJob(job: Job): boolean {
  return job.triggers.some((t) => t.kind === 'queue' && t.mode === 'service');
}

function queueTriggerOf(job: Job): QueueJobTrigger | undefined {
  return job.triggers.find((t): t is QueueJobTrigger => t.kind === 'queue');
}

function queueNameOf(job: Job, trigger: QueueJobTrigger, ctx: CompileContext): string {
  if (!trigger.existing) return ctx.names.jobQueue(job.name, trigger.fifo);
  return trigger.existing.startsWith('arn:') ? (trigger.existing.split(':').pop() ?? '') : trigger.existing;
}

function queueUrlOf(job: Job, trigger: QueueJobTrigger, ctx: CompileContext): CfnValue {
  if (!trigger.existing) return ref(logicalIds.jobQueue(job.name));
  const name = queueNameOf(job, trigger, ctx);
  return { 'Fn::Sub': `https://sqs.\${AWS::Region}.\${AWS::URLSuffix}/\${AWS::AccountId}/${name}` };
}

function queueArnOf(job: Job, trigger: QueueJobTrigger): CfnValue {
  if (!trigger.existing) return getAtt(logicalIds.jobQueue(job.name), 'Arn');
  if (trigger.existing.startsWith('arn:')) return trigger.existing;
  return { 'Fn::Sub': `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${trigger.existing}` };
}

/**
 * The capacity provider strategy of the workers. Spot with fallback keeps one on-demand worker and puts
 * four of every five others on Spot: a service cannot retry a placement on another provider the way the
 * launcher does for one task.
 */
export function workerCapacityStrategy(job: Job): CfnValue[] {
  const capacity = job.task.capacity;
  if (isEc2Capacity(capacity)) return ec2CapacityProviderStrategy();
  if (capacity === 'FARGATE_SPOT') return [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }];
  if (capacity === 'FARGATE_SPOT_WITH_FALLBACK') {
    return [
      { CapacityProvider: 'FARGATE', Base: 1, Weight: 1 },
      { CapacityProvider: 'FARGATE_SPOT', Weight: 4 },
    ];
  }
  return [{ CapacityProvider: 'FARGATE', Weight: 1 }];
}

/** The job's queue and dead-letter queue, as for a task-per-message job but without the Lambda mapping. */
function compileWorkerQueue(job: Job, trigger: QueueJobTrigger, ctx: CompileContext): Resources {
  if (trigger.existing) return {};
  return jobQueueResources(job, trigger, ctx, {
    // No Lambda reads this queue, so the 6× launcher rule does not apply: the worker extends each
    // message's visibility while it works, and this is the time before a crashed worker's message returns.
    VisibilityTimeout: Math.round(parseDuration(trigger.visibilityTimeout) / 1000),
    // Workers long-poll; a queue-level wait makes receives without WaitTimeSeconds long polls too.
    ReceiveMessageWaitTimeSeconds: 20,
  });
}

const seconds = (d: string) => Math.round(parseDuration(d) / 1000);

function sqsVisibleMetric(id: string, queueName: CfnValue, stat: string): CfnValue {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: queueName }],
      },
      Stat: stat,
    },
    ReturnData: false,
  };
}

function runningTasksMetric(id: string, job: Job, ctx: CompileContext, stat: string): CfnValue {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        // Container Insights publishes the service's running task count; the cluster turns it on when a
        // service-mode job exists (see enableContainerInsights).
        Namespace: 'ECS/ContainerInsights',
        MetricName: 'RunningTaskCount',
        Dimensions: [
          { Name: 'ClusterName', Value: ctx.clusterName },
          { Name: 'ServiceName', Value: getAtt(serviceLogicalIds.service(job.name), 'Name') },
        ],
      },
      Stat: stat,
    },
    ReturnData: false,
  };
}

/** The ECS service and its scaling for one service-mode job. */
export function compileWorkerService(job: Job, trigger: QueueJobTrigger, ctx: CompileContext): Resources {
  const options = serviceOptionsOf(trigger);
  if (!options) throw new CompileError(`${job.file}: compileWorkerService called for a task-mode queue`);
  const ids = serviceLogicalIds;
  const name = job.name;
  const network = taskNetwork(ctx);
  const queueName = trigger.existing
    ? queueNameOf(job, trigger, ctx)
    : getAtt(logicalIds.jobQueue(name), 'QueueName');
  const resources: Resources = compileWorkerQueue(job, trigger, ctx);

  resources[ids.service(name)] = {
    Type: 'AWS::ECS::Service',
    Properties: {
      Cluster: ctx.clusterName,
      TaskDefinition: ref(logicalIds.taskDefinition(name)),
      // No DesiredCount: auto scaling owns it. A value here would reset the fleet on every deploy, in the
      // middle of a backlog. ECS starts a new service with one task; the policies take it from there.
      CapacityProviderStrategy: workerCapacityStrategy(job),
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          Subnets: network.subnets,
          SecurityGroups: network.securityGroups,
          AssignPublicIp: network.assignPublicIp ? 'ENABLED' : 'DISABLED',
        },
      },
      DeploymentConfiguration: {
        // A deploy whose workers keep failing to start stops and rolls back to the last working revision.
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      EnableECSManagedTags: true,
      PropagateTags: 'SERVICE',
      Tags: [
        { Key: 'berth:job', Value: name },
        { Key: 'berth:mode', Value: 'service' },
        { Key: 'berth:service', Value: ctx.names.base },
      ],
    },
  };

  resources[ids.scalableTarget(name)] = {
    Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
    Properties: {
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      ResourceId: join('/', ['service', ctx.clusterName, getAtt(ids.service(name), 'Name')]),
      MinCapacity: options.minTasks,
      MaxCapacity: options.maxTasks,
      // No RoleARN: Application Auto Scaling uses (and creates) its ECS service-linked role.
      ...(options.windows?.length
        ? {
            ScheduledActions: options.windows.map((w, i) => ({
              ScheduledActionName: `${name}-window-${i}`,
              Schedule: w.cron,
              Timezone: w.timezone,
              ScalableTargetAction: { MinCapacity: w.minTasks, MaxCapacity: w.maxTasks },
            })),
          }
        : {}),
    },
  };
  const target = ref(ids.scalableTarget(name));
  const policyName = (kind: string) => `${ctx.names.prefix}${name}-${kind}`;

  // Why backlog per task and not queue depth or CPU: a worker's load is the messages waiting for it.
  // Depth alone has no unit a target can hold (1,000 messages is nothing for 100 workers and hours for one),
  // and CPU stays low for workers that wait on I/O while the queue grows. Visible ÷ running workers falls as
  // workers are added, which is what target tracking needs to size the fleet proportionally. The target is
  // "messages one worker may have waiting" = acceptable latency ÷ seconds per message.
  resources[ids.backlogPolicy(name)] = {
    Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
    Properties: {
      PolicyName: policyName('backlog'),
      PolicyType: 'TargetTrackingScaling',
      ScalingTargetId: target,
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: options.backlogPerTask,
        ScaleInCooldown: seconds(options.scaleInCooldown),
        ScaleOutCooldown: seconds(options.scaleOutCooldown),
        CustomizedMetricSpecification: {
          Metrics: [
            sqsVisibleMetric('visible', queueName, 'Average'),
            runningTasksMetric('running', job, ctx, 'Average'),
            {
              Id: 'backlog',
              Label: 'Messages waiting per running worker',
              Expression: 'visible / running',
              ReturnData: true,
            },
          ],
        },
      },
    },
  };

  if (options.minTasks === 0) {
    // At zero workers the backlog per task has no value and target tracking does nothing on missing data,
    // so a queue that fills while the service sleeps would wait forever. This alarm fires only when messages
    // wait and no worker runs, and adds one; target tracking takes over from there.
    resources[ids.wakePolicy(name)] = {
      Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
      Properties: {
        PolicyName: policyName('wake'),
        PolicyType: 'StepScaling',
        ScalingTargetId: target,
        StepScalingPolicyConfiguration: {
          AdjustmentType: 'ChangeInCapacity',
          Cooldown: seconds(options.scaleOutCooldown),
          MetricAggregationType: 'Maximum',
          StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
        },
      },
    };
    resources[ids.wakeAlarm(name)] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: `berth: messages wait for ${name} and no worker runs — start one`,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        Metrics: [
          withPeriod(sqsVisibleMetric('visible', queueName, 'Maximum')),
          withPeriod(runningTasksMetric('running', job, ctx, 'Maximum')),
          {
            Id: 'wake',
            Label: 'Messages waiting with no worker',
            Expression: 'IF(visible >= 1 AND FILL(running, 0) < 1, 1, 0)',
            ReturnData: true,
          },
        ],
        AlarmActions: [ref(ids.wakePolicy(name))],
      },
    };
  }

  if (options.stepScaling?.length) compileStepScaling(resources, job, options, queueName, policyName);

  for (const [kind, value, metric] of [
    ['cpu', options.cpuTarget, 'ECSServiceAverageCPUUtilization'],
    ['memory', options.memoryTarget, 'ECSServiceAverageMemoryUtilization'],
  ] as const) {
    if (value === undefined) continue;
    resources[kind === 'cpu' ? ids.cpuPolicy(name) : ids.memoryPolicy(name)] = {
      Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
      Properties: {
        PolicyName: policyName(kind),
        PolicyType: 'TargetTrackingScaling',
        ScalingTargetId: target,
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: value,
          ScaleInCooldown: seconds(options.scaleInCooldown),
          ScaleOutCooldown: seconds(options.scaleOutCooldown),
          PredefinedMetricSpecification: { PredefinedMetricType: metric },
        },
      },
    };
  }
  return resources;
}

/** Alarm metric queries need a period on each metric; target tracking queries must not have one. */
function withPeriod(query: CfnValue): CfnValue {
  const q = query as { MetricStat: Record<string, CfnValue> };
  return { ...(query as Record<string, CfnValue>), MetricStat: { ...q.MetricStat, Period: 60 } };
}

function compileStepScaling(
  resources: Resources,
  job: Job,
  options: ResolvedServiceOptions,
  queueName: CfnValue,
  policyName: (kind: string) => string,
): void {
  const duplicate = stepScalingIssue(job, options.stepScaling);
  if (duplicate) throw new CompileError(formatJobIssue(duplicate));
  const steps = [...(options.stepScaling ?? [])].sort((a, b) => a.visibleAtLeast - b.visibleAtLeast);
  const threshold = steps[0]?.visibleAtLeast ?? 1;
  const ids = serviceLogicalIds;
  resources[ids.stepPolicy(job.name)] = {
    Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
    Properties: {
      PolicyName: policyName('steps'),
      PolicyType: 'StepScaling',
      ScalingTargetId: ref(ids.scalableTarget(job.name)),
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ChangeInCapacity',
        Cooldown: seconds(options.scaleOutCooldown),
        MetricAggregationType: 'Maximum',
        // Bounds are relative to the alarm threshold (the first step).
        StepAdjustments: steps.map((step, i) => {
          const next = steps[i + 1];
          return {
            MetricIntervalLowerBound: step.visibleAtLeast - threshold,
            ...(next ? { MetricIntervalUpperBound: next.visibleAtLeast - threshold } : {}),
            ScalingAdjustment: step.addTasks,
          };
        }),
      },
    },
  };
  resources[ids.stepAlarm(job.name)] = {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: `berth: ${job.name} queue backlog at or above ${threshold} visible messages`,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queueName }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: threshold,
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref(ids.stepPolicy(job.name))],
    },
  };
}

/**
 * Task definition changes for a service-mode job: the worker learns its queue (`BERTH_QUEUE_URL`, read by
 * `berth/worker`) and gets Spot's full two-minute warning to drain before SIGKILL.
 */
export function adaptTaskDefinitionForService(resources: Resources, job: Job, ctx: CompileContext): void {
  const trigger = queueTriggerOf(job);
  if (trigger?.mode !== 'service') return;
  const td = resources[logicalIds.taskDefinition(job.name)];
  const containers = td?.Properties?.ContainerDefinitions;
  const container = Array.isArray(containers)
    ? (containers[0] as Record<string, CfnValue> | undefined)
    : undefined;
  if (!container) throw new CompileError(`${job.file}: no container in the task definition of ${job.name}`);
  const env = Array.isArray(container.Environment) ? container.Environment : [];
  container.Environment = [
    ...env,
    { Name: 'BERTH_JOB', Value: job.name },
    { Name: 'BERTH_MODE', Value: 'service' },
    { Name: 'BERTH_QUEUE_URL', Value: queueUrlOf(job, trigger, ctx) },
  ];
  container.StopTimeout = WORKER_STOP_TIMEOUT_SECONDS;

  // The worker polls the queue itself, so its task role may receive, extend and delete on that queue only.
  const statement: CfnValue = {
    Sid: 'WorkerQueue',
    Effect: 'Allow',
    Action: [...WORKER_QUEUE_ACTIONS],
    Resource: [queueArnOf(job, trigger)],
  };
  const roleId = logicalIds.taskRole(job.name);
  const role = resources[roleId];
  if (role?.Properties) {
    const policies = role.Properties.Policies as Array<{ PolicyDocument: { Statement: CfnValue[] } }>;
    policies[0]?.PolicyDocument.Statement.push(statement);
  } else {
    resources[roleId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: ctx.names.taskRole(job.name),
        AssumeRolePolicyDocument: ECS_TASKS_TRUST(),
        Policies: [{ PolicyName: 'job', PolicyDocument: { Version: '2012-10-17', Statement: [statement] } }],
      },
    };
    if (td?.Properties) td.Properties.TaskRoleArn = getAtt(roleId, 'Arn');
  }
}

/** The service-mode job's worker permissions: receive, extend, delete on its own queue only. */
export const WORKER_QUEUE_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
] as const;

/**
 * Backlog per task divides by Container Insights' RunningTaskCount, so berth's cluster turns Container
 * Insights on as soon as one service-mode job exists (it bills per metric; see README "services"). An
 * existing cluster must have it on already.
 */
export function enableContainerInsights(
  resources: Resources,
  jobs: readonly Job[],
  ctx: CompileContext,
): void {
  if (!jobs.some(isServiceJob) || ctx.config.cluster !== 'create') return;
  const cluster = resources[logicalIds.cluster];
  if (cluster?.Properties)
    cluster.Properties.ClusterSettings = [{ Name: 'containerInsights', Value: 'enabled' }];
}

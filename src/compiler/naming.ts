/**
 * Every logical id and physical name berth writes, in one place. Physical names are truncated to their AWS
 * limit with a stable hash suffix, so the same service, stage and job always give the same names.
 *
 * Physical names of a stage share one prefix, `<base>__`: AWS names never need `__` elsewhere and `base` never
 * holds it, so an IAM pattern such as `task-definition/<base>__*` matches this stage's resources only.
 */
import { createHash } from 'node:crypto';

/** AWS name-length limits berth relies on. */
export const NAME_LIMITS = {
  iamRole: 64,
  lambdaFunction: 64,
  eventsRule: 64,
  schedule: 64,
  scheduleGroup: 64,
  sqsQueue: 80,
  taskFamily: 255,
  cluster: 255,
  dynamoTable: 255,
  eventBus: 256,
  snsTopic: 256,
  logicalId: 255,
} as const;

/** Longest `base` (`<service>-<stage>`): leaves room for `__task-<32-char job>` in a 64-character role name. */
export const MAX_BASE_LENGTH = 24;

export function shortHash(text: string, length = 6): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Cuts `name` to `max` characters, replacing the tail with `-<hash>` of the full name when it is too long. */
export function truncate(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = shortHash(name);
  return `${name.slice(0, max - hash.length - 1).replace(/[-_.]+$/, '')}-${hash}`;
}

/** `order-worker` → `OrderWorker`; names where `-` precedes a digit get a hash suffix to stay unambiguous. */
export function pascal(name: string): string {
  const out = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  // Capitals mark where a `-` was, so the mapping is reversible unless a `-` precedes a digit.
  return /-[0-9]/.test(name) || /[^a-z0-9-]/.test(name) ? `${out}H${shortHash(name, 6)}` : out;
}

export interface Names {
  /** `<service>-<stage>`, lowercase, at most 24 characters. */
  base: string;
  service: string;
  stage: string;
  /** Physical-name prefix shared by every per-job resource of the stage (`<base>__`). */
  prefix: string;
  cluster: string;
  taskFamily(job: string): string;
  taskRole(job: string): string;
  executionRole: string;
  lambdaRole(fn: BerthFunctionKind): string;
  functionName(fn: BerthFunctionKind): string;
  s3Rule(job: string, index: number): string;
  schedule(job: string, index: number): string;
  scheduleGroup: string;
  schedulerRole: string;
  jobQueue(job: string, fifo: boolean): string;
  jobDeadLetterQueue(job: string, fifo: boolean): string;
  launchQueue: string;
  launchDeadLetterQueue: string;
  runsTable: string;
  eventBus: string;
  logGroup: string;
  jobLogGroup(job: string): string;
  interceptorRule: string;
  notifyTopic(job: string): string;
  /** `index` > 0 for a job's further notify rules (5 targets each). */
  notifyRule(job: string, index?: number): string;
  subscriberFunction(subscriber: string): string;
  subscriberRole(subscriber: string): string;
  subscriberRule(subscriber: string): string;
}

export const BERTH_FUNCTIONS = ['launcher', 'interceptor', 'sweeper'] as const;
export type BerthFunctionKind = (typeof BERTH_FUNCTIONS)[number];
/** A `defineSubscriber` Lambda: `subscriber<PascalName>`. */
export type SubscriberFunctionKind = `subscriber${string}`;
export type FunctionKind = BerthFunctionKind | SubscriberFunctionKind;

function sanitize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The physical names of one service and stage. */
export function createNames(service: string, stage: string): Names {
  const raw = sanitize(`${service}-${stage}`) || 'berth';
  const base = truncate(raw, MAX_BASE_LENGTH).replace(/_/g, '-');
  const prefix = `${base}__`;
  const fifo = (name: string, isFifo: boolean, max: number) =>
    isFifo ? `${truncate(name, max - 5)}.fifo` : truncate(name, max);
  return {
    base,
    service,
    stage,
    prefix,
    cluster: truncate(base, NAME_LIMITS.cluster),
    taskFamily: (job) => truncate(`${prefix}${job}`, NAME_LIMITS.taskFamily),
    taskRole: (job) => truncate(`${prefix}task-${job}`, NAME_LIMITS.iamRole),
    executionRole: truncate(`${prefix}execution`, NAME_LIMITS.iamRole),
    lambdaRole: (fn) => truncate(`${prefix}fn-${fn}`, NAME_LIMITS.iamRole),
    functionName: (fn) => truncate(`${base}-berth-${fn}`, NAME_LIMITS.lambdaFunction),
    s3Rule: (job, i) => truncate(`${prefix}${job}-s3-${i}`, NAME_LIMITS.eventsRule),
    schedule: (job, i) => truncate(`${job}-schedule-${i}`, NAME_LIMITS.schedule),
    scheduleGroup: truncate(base, NAME_LIMITS.scheduleGroup),
    schedulerRole: truncate(`${prefix}scheduler`, NAME_LIMITS.iamRole),
    jobQueue: (job, isFifo) => fifo(`${prefix}${job}`, isFifo, NAME_LIMITS.sqsQueue),
    jobDeadLetterQueue: (job, isFifo) => fifo(`${prefix}${job}-dlq`, isFifo, NAME_LIMITS.sqsQueue),
    launchQueue: truncate(`${prefix}launch`, NAME_LIMITS.sqsQueue),
    launchDeadLetterQueue: truncate(`${prefix}launch-dlq`, NAME_LIMITS.sqsQueue),
    runsTable: truncate(`${prefix}runs`, NAME_LIMITS.dynamoTable),
    eventBus: truncate(base, NAME_LIMITS.eventBus),
    logGroup: `/berth/${base}/jobs`,
    jobLogGroup: (job) => `/berth/${base}/jobs/${job}`,
    interceptorRule: truncate(`${prefix}task-stopped`, NAME_LIMITS.eventsRule),
    notifyTopic: (job) => truncate(`${prefix}${job}-notify`, NAME_LIMITS.snsTopic),
    notifyRule: (job, index = 0) =>
      truncate(`${prefix}${job}-notify${index ? `-${index + 1}` : ''}`, NAME_LIMITS.eventsRule),
    subscriberFunction: (s) => truncate(`${base}-sub-${s}`, NAME_LIMITS.lambdaFunction),
    subscriberRole: (s) => truncate(`${prefix}sub-${s}`, NAME_LIMITS.iamRole),
    subscriberRule: (s) => truncate(`${prefix}sub-${s}`, NAME_LIMITS.eventsRule),
  };
}

/** Logical ids. Every berth resource starts with `Berth`, so it never collides with the service's own. */
export const logicalIds = {
  cluster: 'BerthCluster',
  clusterCapacityProviders: 'BerthClusterCapacityProviders',
  executionRole: 'BerthExecutionRole',
  logGroup: 'BerthJobsLogGroup',
  launchQueue: 'BerthLaunchQueue',
  launchDeadLetterQueue: 'BerthLaunchDeadLetterQueue',
  launchQueuePolicy: 'BerthLaunchQueuePolicy',
  launcherMapping: 'BerthLauncherLaunchQueueMapping',
  runsTable: 'BerthRunsTable',
  eventBus: 'BerthEventBus',
  scheduleGroup: 'BerthScheduleGroup',
  schedulerRole: 'BerthSchedulerRole',
  payloadBucket: 'BerthPayloadBucket',
  payloadBucketPolicy: 'BerthPayloadBucketPolicy',
  interceptorRule: 'BerthTaskStoppedRule',
  interceptorPermission: 'BerthTaskStoppedRulePermission',
  sweeperSchedule: 'BerthSweeperSchedule',
  vpc: 'BerthVpc',
  internetGateway: 'BerthInternetGateway',
  gatewayAttachment: 'BerthVpcGatewayAttachment',
  routeTable: 'BerthPublicRouteTable',
  defaultRoute: 'BerthPublicDefaultRoute',
  subnet: (i: number) => `BerthPublicSubnet${i + 1}`,
  subnetRouteTable: (i: number) => `BerthPublicSubnet${i + 1}RouteTableAssociation`,
  securityGroup: 'BerthTaskSecurityGroup',
  /** Serverless's key for the function (`functions.<key>`); its logical ids derive from it. */
  functionKey: (fn: FunctionKind) => `berth${fn.charAt(0).toUpperCase()}${fn.slice(1)}`,
  /** Same ids Serverless gives `functions.berthLauncher` etc., so references work in both outputs. */
  function: (fn: FunctionKind) => `Berth${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`,
  functionLogGroup: (fn: FunctionKind) => `Berth${fn.charAt(0).toUpperCase()}${fn.slice(1)}LogGroup`,
  lambdaRole: (fn: FunctionKind) => `Berth${fn.charAt(0).toUpperCase()}${fn.slice(1)}Role`,
  taskDefinition: (job: string) => `BerthJob${pascal(job)}TaskDefinition`,
  taskRole: (job: string) => `BerthJob${pascal(job)}TaskRole`,
  jobLogGroup: (job: string) => `BerthJob${pascal(job)}LogGroup`,
  s3Rule: (job: string, i: number) => `BerthJob${pascal(job)}S3Rule${i}`,
  schedule: (job: string, i: number) => `BerthJob${pascal(job)}Schedule${i}`,
  jobQueue: (job: string) => `BerthJob${pascal(job)}Queue`,
  jobDeadLetterQueue: (job: string) => `BerthJob${pascal(job)}DeadLetterQueue`,
  jobQueueMapping: (job: string) => `BerthJob${pascal(job)}QueueMapping`,
  notifyTopic: (job: string) => `BerthJob${pascal(job)}NotifyTopic`,
  notifyTopicPolicy: (job: string) => `BerthJob${pascal(job)}NotifyTopicPolicy`,
  notifyRule: (job: string) => `BerthJob${pascal(job)}NotifyRule`,
  /**
   * A subscriber's function kind (`subscriberPageOnFailure`): `functionKey`, `function`, `functionLogGroup` and
   * `lambdaRole` of it give the Serverless key `berthSubscriberPageOnFailure` and the ids Serverless derives.
   */
  subscriberKind: (subscriber: string): SubscriberFunctionKind => `subscriber${pascal(subscriber)}`,
  subscriberRule: (subscriber: string) => `BerthSubscriber${pascal(subscriber)}Rule`,
  subscriberPermission: (subscriber: string) => `BerthSubscriber${pascal(subscriber)}Permission`,
} as const;

/**
 * Subscribers: typed functions that run when berth publishes an outcome event. One TypeScript file per
 * subscriber in `subscribers/`, default-exporting `defineSubscriber(...)`; the compiler turns each into a
 * Lambda and a rule on berth's bus with `subscriberPattern(sub)`.
 *
 * @example
 * // subscribers/page-on-failure.ts
 * import { defineSubscriber } from 'berth';
 * export default defineSubscriber({ on: ['Job Run Failed', 'Job Run Timed Out'], jobs: ['nightly-report'] },
 *   async (event) => { console.log(`${event.detail.job} ${event.detail.runId}: ${event.detail.reason}`); });
 */
import { BerthError } from '../core/errors.js';
import {
  ALL_EVENT_TYPES,
  EVENT_SOURCE,
  type EventType,
  type OutcomeEvent,
} from '../core/lifecycle/events.js';
import type { EcsTaskStateChangeEvent } from '../runtime/aws/taskEvents.js';

export const SUBSCRIBERS_DIR = 'subscribers';

export interface SubscriberOptions<T extends EventType = EventType> {
  /** Outcome event types to receive. */
  on: readonly T[];
  /** Only these jobs. @default every job of the stack */
  jobs?: readonly string[];
  /** Name of the subscriber (the Lambda's suffix). @default the file name */
  name?: string;
  /**
   * IAM statements for the subscriber's Lambda role, beside its own logs (the only thing it may do otherwise).
   * @default []
   * @example [{ actions: ['sns:Publish'], resources: ['arn:aws:sns:us-east-1:123456789012:pager'] }]
   */
  permissions?: readonly SubscriberPermission[];
}

/** One IAM statement of a subscriber's role (the same shape as a job's `task.permissions`). */
export interface SubscriberPermission {
  /** @default 'Allow' */
  effect?: 'Allow' | 'Deny';
  actions: readonly string[];
  resources: readonly string[];
  conditions?: Record<string, Record<string, unknown>>;
}

export type SubscriberEvent<T extends EventType> = OutcomeEvent & { 'detail-type': T };
export type SubscriberHandler<T extends EventType> = (event: SubscriberEvent<T>) => Promise<void> | void;

export interface Subscriber<T extends EventType = EventType> {
  readonly kind: 'berth.subscriber';
  readonly options: SubscriberOptions<T>;
  readonly handler: SubscriberHandler<T>;
}

/** A subscriber file or its options are wrong: the CLI prints the message (`file: field: problem — fix`), no stack. */
export class SubscriberError extends BerthError {
  override name = 'SubscriberError';
}

/** Declares a subscriber. The handler's event is typed by the event types in `on`. */
export function defineSubscriber<const T extends EventType>(
  options: SubscriberOptions<T>,
  handler: SubscriberHandler<T>,
): Subscriber<T> {
  if (!Array.isArray(options.on) || options.on.length === 0)
    throw new SubscriberError(`on: is empty — list event types such as 'Job Run Failed'`);
  const unknown = options.on.filter((t) => !ALL_EVENT_TYPES.includes(t));
  if (unknown.length)
    throw new SubscriberError(
      `on: unknown event type ${unknown.join(', ')} — use ${ALL_EVENT_TYPES.join(', ')}`,
    );
  checkCommon(options);
  return { kind: 'berth.subscriber', options, handler };
}

function checkCommon(options: { jobs?: readonly string[]; permissions?: readonly SubscriberPermission[] }) {
  if (options.jobs && options.jobs.length === 0)
    throw new SubscriberError('jobs: is empty — omit it to receive every job, or list job names');
  if (options.permissions !== undefined && !Array.isArray(options.permissions))
    throw new SubscriberError(
      'permissions: is not a list — write permissions: [{ actions: [...], resources: [...] }]',
    );
  // Each statement's shape is checked by the loader (./permissions.ts): zod stays out of `import 'berth'`.
}

export interface TaskStoppedSubscriberOptions {
  /** Only these jobs' tasks. @default every job of the stack */
  jobs?: readonly string[];
  /** Name of the subscriber (the Lambda's suffix). @default the file name */
  name?: string;
  /** Every state change (PROVISIONING, RUNNING, …), not only STOPPED. @default false */
  allStates?: boolean;
  /** IAM statements for the subscriber's Lambda role, beside its own logs. @default [] */
  permissions?: readonly SubscriberPermission[];
}

export type TaskStoppedHandler = (event: EcsTaskStateChangeEvent) => Promise<void> | void;

/** A subscriber to ECS's own Task State Change events of berth's tasks (the raw stop, as ECS reports it). */
export interface TaskStoppedSubscriber {
  readonly kind: 'berth.taskStoppedSubscriber';
  readonly options: TaskStoppedSubscriberOptions;
  readonly handler: TaskStoppedHandler;
}

/**
 * Declares a raw subscriber: every ECS stop of berth's tasks (on the account's default bus, where AWS service
 * events go), before berth classifies or retries anything. Runs on AWS only: `berth dev` has no ECS events.
 *
 * @example
 * // subscribers/audit-stops.ts
 * import { defineTaskStoppedSubscriber } from 'berth';
 * export default defineTaskStoppedSubscriber({ jobs: ['thumbnail'] }, async (event) => {
 *   console.log(event.detail.taskArn, event.detail.stopCode, event.detail.stoppedReason);
 * });
 */
export function defineTaskStoppedSubscriber(
  options: TaskStoppedSubscriberOptions,
  handler: TaskStoppedHandler,
): TaskStoppedSubscriber {
  checkCommon(options);
  return { kind: 'berth.taskStoppedSubscriber', options, handler };
}

export function isTaskStoppedSubscriber(value: unknown): value is TaskStoppedSubscriber {
  return (value as TaskStoppedSubscriber | null)?.kind === 'berth.taskStoppedSubscriber';
}

/** The Lambda handler of a raw subscriber; ignores anything that is not a state change of a berth task. */
export function createTaskStoppedHandler(
  sub: TaskStoppedSubscriber,
): (event: EcsTaskStateChangeEvent) => Promise<void> {
  return async (event) => {
    if (event?.source !== 'aws.ecs' || event['detail-type'] !== 'ECS Task State Change') return;
    if (!event.detail?.startedBy?.startsWith('berth/')) return;
    if (!sub.options.allStates && event.detail.lastStatus !== 'STOPPED') return;
    await sub.handler(event);
  };
}

export function isSubscriber(value: unknown): value is Subscriber {
  return (value as Subscriber | null)?.kind === 'berth.subscriber';
}

/** The EventBridge pattern of a subscriber's rule on berth's bus. */
export function subscriberPattern(sub: Pick<Subscriber, 'options'>): Record<string, unknown> {
  return {
    source: [EVENT_SOURCE],
    'detail-type': [...sub.options.on],
    ...(sub.options.jobs ? { detail: { job: [...sub.options.jobs] } } : {}),
  };
}

/** Runs a subscriber on one delivered event, ignoring events its pattern would not match (defence in depth). */
export async function runSubscriber<T extends EventType>(
  sub: Subscriber<T>,
  event: OutcomeEvent,
): Promise<boolean> {
  // Raw (ECS) subscribers share subscribers/ but never receive outcome events.
  if (!isSubscriber(sub)) return false;
  if (
    event.source !== EVENT_SOURCE ||
    !(sub.options.on as readonly EventType[]).includes(event['detail-type'])
  )
    return false;
  if (sub.options.jobs && !sub.options.jobs.includes(event.detail.job)) return false;
  await sub.handler(event as SubscriberEvent<T>);
  return true;
}

/**
 * The raw ECS subscription: every Task State Change of berth's tasks on the cluster (default bus), for users
 * who want each stop as ECS reports it. `stoppedOnly` narrows it to STOPPED.
 */
export function taskStoppedPattern<A = string>(
  clusterArn: A,
  options: {
    stoppedOnly?: boolean;
    /** Narrow to task definitions whose ARN starts with one of these (`…:task-definition/<family>:`). */
    taskDefinitionPrefixes?: readonly A[];
  } = {},
): Record<string, unknown> {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      clusterArn: [clusterArn],
      startedBy: [{ prefix: 'berth/' }],
      ...(options.stoppedOnly === false ? {} : { lastStatus: ['STOPPED'] }),
      ...(options.taskDefinitionPrefixes?.length
        ? { taskDefinitionArn: options.taskDefinitionPrefixes.map((prefix) => ({ prefix })) }
        : {}),
    },
  };
}

export interface LoadedSubscriber {
  /** Project-relative file. */
  file: string;
  name: string;
  subscriber: Subscriber | TaskStoppedSubscriber;
}

/**
 * The Lambda handler of one subscriber. The compiler bundles an entry such as
 * `import sub from '../subscribers/page.ts'; export const handler = createSubscriberHandler(sub);`
 */
export function createSubscriberHandler<T extends EventType>(
  sub: Subscriber<T>,
): (event: OutcomeEvent) => Promise<void> {
  return async (event) => {
    await runSubscriber(sub, event);
  };
}

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
import {
  ALL_EVENT_TYPES,
  EVENT_SOURCE,
  type EventType,
  type OutcomeEvent,
} from '../core/lifecycle/events.js';

export const SUBSCRIBERS_DIR = 'subscribers';

export interface SubscriberOptions<T extends EventType = EventType> {
  /** Outcome event types to receive. */
  on: readonly T[];
  /** Only these jobs. @default every job of the stack */
  jobs?: readonly string[];
  /** Name of the subscriber (the Lambda's suffix). @default the file name */
  name?: string;
}

export type SubscriberEvent<T extends EventType> = OutcomeEvent & { 'detail-type': T };
export type SubscriberHandler<T extends EventType> = (event: SubscriberEvent<T>) => Promise<void> | void;

export interface Subscriber<T extends EventType = EventType> {
  readonly kind: 'berth.subscriber';
  readonly options: SubscriberOptions<T>;
  readonly handler: SubscriberHandler<T>;
}

export class SubscriberError extends Error {
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
  if (options.jobs && options.jobs.length === 0)
    throw new SubscriberError('jobs: is empty — omit it to receive every job, or list job names');
  return { kind: 'berth.subscriber', options, handler };
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
export function taskStoppedPattern(
  clusterArn: string,
  options: { stoppedOnly?: boolean } = {},
): Record<string, unknown> {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      clusterArn: [clusterArn],
      startedBy: [{ prefix: 'berth/' }],
      ...(options.stoppedOnly === false ? {} : { lastStatus: ['STOPPED'] }),
    },
  };
}

export interface LoadedSubscriber {
  /** Project-relative file. */
  file: string;
  name: string;
  subscriber: Subscriber;
}

/**
 * Loads `subscribers/*.{ts,mts,js,mjs}` under `root` (through tsx, like jobs). Every file must default-export
 * `defineSubscriber(...)`; names must be unique.
 */
export async function loadSubscribers(root: string): Promise<LoadedSubscriber[]> {
  const { readdir } = await import('node:fs/promises');
  const { join, basename, extname } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const dir = join(root, SUBSCRIBERS_DIR);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const files = entries.filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const loaded: LoadedSubscriber[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    const file = `${SUBSCRIBERS_DIR}/${f}`;
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: unknown };
    if (!isSubscriber(mod.default))
      throw new SubscriberError(
        `${file}: (file): does not default-export defineSubscriber(...) — add export default defineSubscriber({ on: [...] }, handler)`,
      );
    const name = mod.default.options.name ?? basename(f, extname(f));
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name))
      throw new SubscriberError(
        `${file}: name: "${name}" is not a valid subscriber name — use lowercase letters, digits and '-', at most 32`,
      );
    const other = seen.get(name);
    if (other)
      throw new SubscriberError(
        `${file}: name: "${name}" is also used by ${other} — give one of them another name`,
      );
    seen.set(name, file);
    loaded.push({ file, name, subscriber: mod.default });
  }
  return loaded;
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

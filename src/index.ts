/**
 * berth: event-driven container jobs on AWS, declared in TypeScript.
 * This entry point holds only the job API and pure types; it never loads an AWS SDK.
 */
export { type DefineJobInput, defineJob, type JobDefinition } from './core/defineJob.js';
export type { Duration } from './core/duration.js';
export { NO_RETRY_EXIT_CODE } from './core/lifecycle/classify.js';
export type { EventType, OutcomeDetail, OutcomeEvent } from './core/lifecycle/events.js';
export { EVENT_SOURCE, EVENT_TYPES } from './core/lifecycle/events.js';
export type { OutcomeClass, RunStatus } from './core/lifecycle/states.js';
export type { TriggerPayload } from './core/lifecycle/trigger.js';
export type { Job, JobInput } from './core/model/job.js';
export {
  defineSubscriber,
  defineTaskStoppedSubscriber,
  type Subscriber,
  type SubscriberOptions,
  type TaskStoppedSubscriber,
  type TaskStoppedSubscriberOptions,
} from './subscriber/index.js';

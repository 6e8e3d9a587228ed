/**
 * `berth/task`: the tiny helper for job code written in TypeScript or JavaScript. It reads the `BERTH_*`
 * environment that berth gives every task, on AWS and under `berth dev` alike; it never loads an AWS SDK
 * unless the trigger was passed by reference to S3.
 *
 * @example
 * import { getTrigger, attempt, failPermanently } from 'berth/task';
 * const trigger = await getTrigger<'s3'>();
 * console.log(`attempt ${attempt()} for s3://${trigger.bucket}/${trigger.key}`);
 * if (!trigger.key.endsWith('.jpg')) failPermanently('not a JPEG'); // exit 86: no retry
 */
import { readFile } from 'node:fs/promises';
import { NO_RETRY_EXIT_CODE } from '../core/lifecycle/classify.js';
import type { TriggerPayload } from '../core/lifecycle/trigger.js';

export type { TriggerPayload };
export { NO_RETRY_EXIT_CODE };

export type TriggerKindName = TriggerPayload['kind'];
export type TriggerOf<K extends TriggerKindName> = Extract<TriggerPayload, { kind: K }>;

export class TaskEnvironmentError extends Error {
  override name = 'TaskEnvironmentError';
}

/** Process effects, injected so tests drive them; the defaults are the real ones. */
export interface TaskEffects {
  env: Record<string, string | undefined>;
  exit: (code: number) => never;
  stderr: (text: string) => void;
  readFile: (path: string) => Promise<string>;
  /** Reads `s3://bucket/key`. */
  readS3: (bucket: string, key: string) => Promise<string>;
}

async function readS3Default(bucket: string, key: string): Promise<string> {
  // Loaded only for a trigger passed by reference, so plain jobs never pay for the SDK.
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const out = await new S3Client({}).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new TaskEnvironmentError(`s3://${bucket}/${key} is empty`);
  return out.Body.transformToString();
}

const defaultEffects = (): TaskEffects => ({
  env: process.env,
  exit: (code) => process.exit(code),
  stderr: (text) => void process.stderr.write(text),
  readFile: (path) => readFile(path, 'utf8'),
  readS3: readS3Default,
});

/** A task context over given effects (tests); the module-level functions use the real process. */
export function createTaskContext(effects: Partial<TaskEffects> = {}) {
  const fx: TaskEffects = { ...defaultEffects(), ...effects };
  const need = (name: string): string => {
    const value = fx.env[name];
    if (value === undefined || value === '')
      throw new TaskEnvironmentError(`${name} is not set — run this code as a berth job (berth dev or AWS)`);
    return value;
  };
  let trigger: Promise<TriggerPayload> | undefined;

  async function resolveTrigger(): Promise<TriggerPayload> {
    const ref = fx.env.BERTH_TRIGGER_REF;
    let json: string;
    if (ref) {
      const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
      try {
        json = s3
          ? await fx.readS3(s3[1] as string, s3[2] as string)
          : await fx.readFile(ref.replace(/^file:\/\//, ''));
      } catch (error) {
        // On AWS the job's task role may read exactly its own prefix (triggers/<job>/*) of the payload bucket.
        throw new TaskEnvironmentError(
          `the trigger of this run is stored at ${ref} and could not be read: ${(error as Error).message}${
            s3
              ? ` — berth's task role for this job grants s3:GetObject on ${s3[1]}/${(s3[2] as string).replace(/[^/]+$/, '*')}; a task role or task definition changed outside berth may lack it`
              : ''
          }`,
          { cause: error },
        );
      }
    } else {
      json = need('BERTH_TRIGGER');
    }
    try {
      return JSON.parse(json) as TriggerPayload;
    } catch (error) {
      throw new TaskEnvironmentError(`the trigger payload is not JSON: ${json.slice(0, 120)}`, {
        cause: error,
      });
    }
  }

  return {
    /**
     * The trigger of this run, typed. Name the kind you expect to narrow it; a different kind throws.
     * @example const t = await getTrigger<'queue'>(); JSON.parse(t.body)
     */
    async getTrigger<K extends TriggerKindName = TriggerKindName>(expected?: K): Promise<TriggerOf<K>> {
      trigger ??= resolveTrigger();
      const value = await trigger;
      if (expected && value.kind !== expected)
        throw new TaskEnvironmentError(`expected a ${expected} trigger, got ${value.kind}`);
      return value as TriggerOf<K>;
    },
    /** Attempt number of this run, from 1. */
    attempt(): number {
      return Number(need('BERTH_ATTEMPT'));
    },
    /** Attempts the run may use in all. */
    maxAttempts(): number {
      return Number(fx.env.BERTH_MAX_ATTEMPTS ?? '1');
    },
    /** True on the run's last allowed attempt. */
    isLastAttempt(): boolean {
      return this.attempt() >= this.maxAttempts();
    },
    runId(): string {
      return need('BERTH_RUN_ID');
    },
    jobName(): string {
      return need('BERTH_JOB');
    },
    /**
     * Ends the task with exit code 86, which berth classifies as "failed, do not retry".
     * @example if (!isValid(input)) failPermanently('input.csv has no header row');
     */
    failPermanently(message: string): never {
      fx.stderr(`berth: failing permanently (no retry): ${message}\n`);
      return fx.exit(NO_RETRY_EXIT_CODE);
    },
  };
}

export type TaskContext = ReturnType<typeof createTaskContext>;

let current: TaskContext | undefined;
const ctx = (): TaskContext => {
  current ??= createTaskContext();
  return current;
};

/** The trigger of this run, typed. @see TaskContext.getTrigger */
export const getTrigger = <K extends TriggerKindName = TriggerKindName>(
  expected?: K,
): Promise<TriggerOf<K>> => ctx().getTrigger<K>(expected);
/** Attempt number of this run, from 1. */
export const attempt = (): number => ctx().attempt();
export const maxAttempts = (): number => ctx().maxAttempts();
export const isLastAttempt = (): boolean => ctx().isLastAttempt();
export const runId = (): string => ctx().runId();
export const jobName = (): string => ctx().jobName();
/** Exit 86: failed, do not retry. */
export const failPermanently = (message: string): never => ctx().failPermanently(message);

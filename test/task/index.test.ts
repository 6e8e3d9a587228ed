import { describe, expect, it } from 'vitest';
import { createTaskContext, NO_RETRY_EXIT_CODE, TaskEnvironmentError } from '../../src/task/index.js';

const env = {
  BERTH_JOB: 'thumbnail',
  BERTH_RUN_ID: 'r0123456789abcdefghjk',
  BERTH_ATTEMPT: '2',
  BERTH_MAX_ATTEMPTS: '3',
  BERTH_TRIGGER: JSON.stringify({ kind: 's3', bucket: 'b', key: 'images/a.jpg', size: 5, time: 't' }),
};

describe('berth/task', () => {
  it('reads the typed trigger, attempt and run id from the environment', async () => {
    const task = createTaskContext({ env });
    const trigger = await task.getTrigger('s3');
    expect(trigger.key).toBe('images/a.jpg');
    expect(task.attempt()).toBe(2);
    expect(task.maxAttempts()).toBe(3);
    expect(task.isLastAttempt()).toBe(false);
    expect(task.runId()).toBe('r0123456789abcdefghjk');
    expect(task.jobName()).toBe('thumbnail');
    await expect(task.getTrigger('queue')).rejects.toThrow(/expected a queue trigger, got s3/);
  });

  it('fetches a trigger passed by reference from S3 or a local file', async () => {
    const payload = JSON.stringify({ kind: 'manual', requestId: 'q', payload: { big: true } });
    const reads: string[] = [];
    const s3 = createTaskContext({
      env: {
        ...env,
        BERTH_TRIGGER_REF: 's3://berth-payloads/triggers/r1.json',
        BERTH_TRIGGER: '{"kind":"manual","ref":"x"}',
      },
      readS3: async (bucket, key) => {
        reads.push(`${bucket}|${key}`);
        return payload;
      },
    });
    expect(await s3.getTrigger('manual')).toMatchObject({ payload: { big: true } });
    await s3.getTrigger();
    expect(reads).toEqual(['berth-payloads|triggers/r1.json']);
    const local = createTaskContext({
      env: { ...env, BERTH_TRIGGER_REF: '/tmp/berth/r1.json' },
      readFile: async (path) => (path === '/tmp/berth/r1.json' ? payload : ''),
    });
    expect(await local.getTrigger()).toMatchObject({ kind: 'manual' });
  });

  it('a by-reference trigger it cannot read fails naming the reference and the grant it needs', async () => {
    const denied = createTaskContext({
      env: { ...env, BERTH_TRIGGER_REF: 's3://berth-payloads/triggers/resize/r1.json' },
      readS3: async () => {
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      },
    });
    await expect(denied.getTrigger()).rejects.toThrow(
      "the trigger of this run is stored at s3://berth-payloads/triggers/resize/r1.json and could not be read: Access Denied — berth's task role for this job grants s3:GetObject on berth-payloads/triggers/resize/*",
    );
  });

  it('failPermanently exits with the no-retry code and says why', () => {
    const errors: string[] = [];
    let code: number | undefined;
    const task = createTaskContext({
      env,
      stderr: (t) => void errors.push(t),
      exit: ((c: number) => {
        code = c;
        throw new Error('exited');
      }) as (code: number) => never,
    });
    expect(() => task.failPermanently('input.csv has no header')).toThrow('exited');
    expect(code).toBe(NO_RETRY_EXIT_CODE);
    expect(code).toBe(86);
    expect(errors.join('')).toContain('input.csv has no header');
  });

  it('names the missing variable outside a berth run', async () => {
    const task = createTaskContext({ env: {} });
    expect(() => task.attempt()).toThrow(TaskEnvironmentError);
    await expect(task.getTrigger()).rejects.toThrow(/BERTH_TRIGGER is not set/);
  });
});

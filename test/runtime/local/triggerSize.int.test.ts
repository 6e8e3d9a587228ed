/**
 * Issue 12, defect 2 under `berth dev`: the same size rules as on AWS. A queue body up to SQS's 1 MiB is
 * accepted and kept out of the run record (one copy, in the payload store, like the payload bucket on AWS);
 * the task reads it by reference through `berth/task`; a body over 1 MiB is refused as SQS refuses it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EngineProc,
  engineCredentials,
  makeProject,
  REPO,
  runs,
  sql,
  startEngine,
  waitFor,
} from './harness.js';

const READER = `import { appendFileSync } from 'node:fs';
import { getTrigger } from '${join(REPO, 'src/task/index.ts')}';
const t = await getTrigger('queue');
appendFileSync('read.log', JSON.stringify({ ref: process.env.BERTH_TRIGGER_REF ?? null, body: t.body.length, json: typeof t.json }) + '\\n');
`;

describe('berth dev: trigger size rules', () => {
  let dir: string;
  let engine: EngineProc;
  let sqs: SQSClient;

  beforeAll(async () => {
    dir = makeProject(
      'trigger-size',
      {
        big: `{ name: 'big', trigger: { queue: {} }, task: { image: 'node:22-alpine', local: { command: ['npx', 'tsx', 'tasks/read.ts'] } } }`,
      },
      { 'tasks/read.ts': READER },
    );
    engine = await startEngine(dir);
    sqs = new SQSClient({
      endpoint: engine.url,
      region: 'us-east-1',
      // The engine's own credential (SigV4 is required on its SQS endpoint).
      credentials: engineCredentials(dir),
    });
  }, 60_000);

  afterAll(async () => {
    sqs?.destroy();
    await engine?.stop();
  });

  it('accepts a 1 MiB body, keeps a stub in the run record and hands the task a reference', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'big' }));
    const body = JSON.stringify({ blob: 'x'.repeat(1_048_576 - 20) });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    const [run] = await waitFor(
      () => {
        const r = runs(dir, 'big');
        return r.length && ['succeeded', 'failed'].includes(r[0]!.status) ? r : undefined;
      },
      60_000,
      engine.output,
    );
    expect(run!.status).toBe('succeeded');
    const [row] = sql<{ trigger: string }>(dir, 'SELECT trigger FROM runs WHERE run_id = ?', run!.run_id);
    const stored = JSON.parse(row!.trigger) as { body: string; ref: string };
    expect(stored.body).toBe('');
    expect(row!.trigger.length).toBeLessThan(1000);
    const read = JSON.parse(readFileSync(join(dir, 'read.log'), 'utf8').trim()) as {
      ref: string;
      body: number;
      json: string;
    };
    expect(read).toEqual({ ref: stored.ref, body: body.length, json: 'object' });
  }, 90_000);

  it('refuses a body over 1 MiB, as SQS does', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'big' }));
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'y'.repeat(1_048_577) })),
    ).rejects.toThrow(/Message must be shorter than 1048576 bytes/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outcomeDetailJsonSchema, outcomeDetailSchema } from '../../../src/core/lifecycle/eventSchema.js';
import {
  ALL_EVENT_TYPES,
  FINAL_EVENT_TYPES,
  finalEventType,
  type OutcomeDetail,
} from '../../../src/core/lifecycle/events.js';
import { FINAL_RUN_STATUSES } from '../../../src/core/lifecycle/states.js';
import { REPO_ROOT } from '../../loader/tmpProject.js';

const detail: OutcomeDetail = {
  schemaVersion: 1,
  job: 'thumbnail',
  runId: 'r0123456789abcdefghjk',
  attempt: 2,
  maxAttempts: 3,
  status: 'failed',
  outcome: 'app_error',
  exitCode: 1,
  stopCode: 'EssentialContainerExited',
  reason: 'Essential container in task exited',
  decision: 'all 3 attempts used',
  createdAt: '2026-03-01T10:00:00.000Z',
  startedAt: '2026-03-01T10:00:20.000Z',
  stoppedAt: '2026-03-01T10:01:00.000Z',
  durationMs: 40_000,
  costUsd: 0.00082,
  taskArn: 'arn:aws:ecs:us-east-1:111122223333:task/berth/5f0c8e1d9a2b4c3d8e7f6a5b4c3d2e1f',
  trigger: { kind: 's3', summary: 's3://uploads/images/cat.jpg' },
  nextAttemptAt: null,
  mode: 'task',
  environment: 'aws',
};

describe('outcome events', () => {
  it('has one final event type per final status, and six types in all', () => {
    expect(FINAL_RUN_STATUSES.map(finalEventType)).toEqual([...FINAL_EVENT_TYPES]);
    expect(ALL_EVENT_TYPES).toEqual([
      'Job Run Started',
      'Job Run Succeeded',
      'Job Run Failed',
      'Job Run Retrying',
      'Job Run Timed Out',
      'Job Run Cancelled',
    ]);
  });

  it('the zod schema accepts a real detail and rejects a wrong one', () => {
    expect(outcomeDetailSchema.parse(detail)).toEqual(detail);
    expect(outcomeDetailSchema.safeParse({ ...detail, attempt: 0 }).success).toBe(false);
    expect(outcomeDetailSchema.safeParse({ ...detail, outcome: 'exploded' }).success).toBe(false);
  });

  it('the JSON Schema lists every field as required and stays open to added fields', () => {
    const schema = outcomeDetailJsonSchema() as {
      $schema: string;
      required: string[];
      properties: Record<string, unknown>;
      additionalProperties?: unknown;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required.sort()).toEqual(Object.keys(detail).sort());
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(detail).sort());
    expect(schema.additionalProperties).toBeUndefined();
  });

  it('docs/events.schema.json is up to date (regenerate: node --import tsx scripts/gen-schema.ts)', () => {
    const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'docs/events.schema.json'), 'utf8'));
    expect(committed).toEqual(outcomeDetailJsonSchema());
  });
});

/**
 * `berth.dev.json` at the project root: settings for `berth dev` only. Every field is optional.
 *
 * @example
 * {
 *   "port": 4555,
 *   "driver": "auto",
 *   "webhooks": [{ "url": "http://127.0.0.1:9000/hooks/berth", "events": ["Job Run Failed"] }],
 *   "env": { "DATABASE_URL": "postgres://localhost/dev" },
 *   "stopGraceSeconds": 5
 * }
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { BerthError } from '../../core/errors.js';
import { ALL_EVENT_TYPES, type EventType } from '../../core/lifecycle/events.js';
import { issuesFromZod } from '../../core/model/validate.js';

export const devConfigSchema = z.strictObject({
  /** Port of the engine's HTTP server (dashboard, SQS endpoint, event stream). @default 4555 */
  port: z.number().int().min(0).max(65535).optional(),
  /** `process`, `docker`, or `auto` (docker for jobs without `task.local` when `docker info` answers). @default 'auto' */
  driver: z.enum(['auto', 'process', 'docker']).optional(),
  /** Outcome events are POSTed (JSON, the EventBridge envelope) to each URL; `events` filters by detail-type. */
  webhooks: z
    .array(
      z.union([
        z.url(),
        z.strictObject({
          url: z.url(),
          events: z.array(z.enum(ALL_EVENT_TYPES as [EventType, ...EventType[]])).optional(),
        }),
      ]),
    )
    .default([]),
  /** Extra environment for every local run. */
  env: z.record(z.string(), z.string()).default({}),
  /** Time between SIGTERM and SIGKILL when an attempt times out or is cancelled. @default 5 */
  stopGraceSeconds: z.number().min(0).max(600).default(5),
});

export type DevConfig = z.output<typeof devConfigSchema>;
export interface Webhook {
  url: string;
  events?: EventType[];
}

export function loadDevConfig(file: string): DevConfig {
  if (!existsSync(file)) return devConfigSchema.parse({});
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new BerthError(`${file}: is not valid JSON (${(error as Error).message}) — fix the syntax`, {
      cause: error,
    });
  }
  const parsed = devConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = issuesFromZod(parsed.error, file, raw)[0];
    throw new BerthError(
      issue
        ? `${file}: ${issue.path === '(job)' ? '(root)' : issue.path}: ${issue.problem} — ${issue.fix === 'see the job reference in docs/jobs.md' ? 'see docs/local.md' : issue.fix}`
        : `${file}: is not a valid dev config — see docs/local.md`,
    );
  }
  return parsed.data;
}

export function webhooksOf(config: DevConfig): Webhook[] {
  return config.webhooks.map((w) =>
    typeof w === 'string' ? { url: w } : { url: w.url, ...(w.events ? { events: w.events } : {}) },
  );
}

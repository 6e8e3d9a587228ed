import { defineJob } from 'berth';

/** Builds yesterday's report at 02:00 Seoul time; skips a night if last night's run still runs. */
export default defineJob({
  name: 'nightly-report',
  description: "Build yesterday's sales report at 02:00 in Seoul",
  trigger: {
    schedule: {
      expression: 'cron(0 2 * * ? *)',
      timezone: 'Asia/Seoul',
      flexibleWindow: '15m',
      payload: { report: 'daily-sales' },
    },
  },
  task: {
    image: 'public.ecr.aws/docker/library/node:22-alpine',
    command: ['node', 'tasks/nightly-report.mjs'],
    cpu: 1024,
    memory: 2048,
    local: { command: ['node', 'tasks/nightly-report.mjs'] },
  },
  overlap: 'skip',
  timeout: '2h',
  retry: { maxAttempts: 2 },
});

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
    // berth bundles the task onto a Node base image, pushes it and pins it by digest (docs/images.md);
    // `berth dev` runs the same file with node, no image.
    build: { entry: 'tasks/nightly-report.mjs' },
    cpu: 1024,
    memory: 2048,
  },
  overlap: 'skip',
  timeout: '2h',
  retry: { maxAttempts: 2 },
});

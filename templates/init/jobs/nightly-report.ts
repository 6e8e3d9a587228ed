import { defineJob } from 'berth';

/** Runs at 02:00 every night in its own time zone; skips a night while the last one still runs. */
export default defineJob({
  name: 'nightly-report',
  description: "Build yesterday's report at 02:00 in Seoul",
  trigger: {
    schedule: {
      expression: 'cron(0 2 * * ? *)',
      timezone: 'Asia/Seoul',
      payload: { report: 'daily' },
    },
  },
  task: {
    // berth bundles the task onto a Node base image, pushes it to ECR and pins it by digest on deploy;
    // `berth dev` runs the same file with node.
    build: { entry: 'tasks/nightly-report.mjs' },
    cpu: 1024,
    memory: 2048,
  },
  overlap: 'skip',
  timeout: '2h',
});

import { defineJob } from 'berth';

/**
 * Sends transactional emails: a steady stream of small messages, so long-running workers poll the queue
 * instead of one task per message. The fleet follows the backlog: about 20 waiting emails per worker,
 * between 0 and 10 workers, with at least 2 during European office hours.
 */
export default defineJob({
  name: 'email-sender',
  description: 'Send queued emails with a worker fleet sized by the backlog',
  trigger: {
    queue: {
      mode: 'service',
      visibilityTimeout: '1m',
      maxReceiveCount: 5,
      service: {
        minTasks: 0,
        maxTasks: 10,
        backlogPerTask: 20,
        scaleInCooldown: '5m',
        windows: [
          { cron: 'cron(0 8 ? * MON-FRI *)', timezone: 'Europe/Berlin', minTasks: 2, maxTasks: 10 },
          { cron: 'cron(0 19 ? * MON-FRI *)', timezone: 'Europe/Berlin', minTasks: 0, maxTasks: 10 },
        ],
      },
    },
  },
  task: {
    // The worker is built into its own image, with berth/worker bundled in (docs/images.md).
    build: { entry: 'tasks/email-sender.mjs' },
    cpu: 256,
    memory: 512,
    capacity: 'FARGATE_SPOT_WITH_FALLBACK',
  },
});

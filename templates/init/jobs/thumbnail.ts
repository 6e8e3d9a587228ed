import { defineJob } from 'berth';

/** Runs once for every .jpg that lands under images/ in the uploads bucket. */
export default defineJob({
  name: 'thumbnail',
  description: 'Make a thumbnail of every .jpg uploaded to uploads/images/',
  trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } },
  task: {
    image: 'public.ecr.aws/docker/library/node:22-alpine',
    command: ['node', 'tasks/thumbnail.mjs'],
    cpu: 512,
    memory: 1024,
    capacity: 'FARGATE_SPOT_WITH_FALLBACK',
    local: { command: ['node', 'tasks/thumbnail.mjs'] },
  },
  retry: { maxAttempts: 3, backoff: { minDelay: '10s', maxDelay: '2m' } },
  timeout: '10m',
});

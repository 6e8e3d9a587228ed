import { defineJob } from 'berth';

/** Makes a thumbnail for every .jpg uploaded under images/ in the uploads bucket. */
export default defineJob({
  name: 'thumbnail',
  description: 'Resize every .jpg uploaded to uploads/images/ into a thumbnail',
  trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } },
  task: {
    image: 'public.ecr.aws/docker/library/node:22-alpine',
    command: ['node', 'tasks/thumbnail.mjs'],
    cpu: 512,
    memory: 1024,
    capacity: 'FARGATE_SPOT_WITH_FALLBACK',
    environment: { THUMBNAIL_WIDTH: '320' },
    local: { command: ['node', 'tasks/thumbnail.mjs'] },
  },
  retry: { maxAttempts: 3, backoff: { minDelay: '10s', maxDelay: '2m' } },
  timeout: '10m',
});

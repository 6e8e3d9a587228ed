import { defineJob } from 'berth';

/** Runs once for every .jpg that lands under images/ in the uploads bucket. */
export default defineJob({
  name: 'thumbnail',
  description: 'Make a thumbnail of every .jpg uploaded to uploads/images/',
  trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } },
  task: {
    // berth bundles the task onto a Node base image, pushes it to ECR and pins it by digest on deploy;
    // `berth dev` runs the same file with node.
    build: { entry: 'tasks/thumbnail.mjs' },
    cpu: 512,
    memory: 1024,
    capacity: 'FARGATE_SPOT_WITH_FALLBACK',
  },
  retry: { maxAttempts: 3, backoff: { minDelay: '10s', maxDelay: '2m' } },
  timeout: '10m',
});

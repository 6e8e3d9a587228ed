import { defineJob } from 'berth';

/** Makes a thumbnail for every .jpg uploaded under images/ in the uploads bucket. */
export default defineJob({
  name: 'thumbnail',
  description: 'Resize every .jpg uploaded to uploads/images/ into a thumbnail',
  trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } },
  task: {
    // berth bundles the task onto a Node base image, pushes it and pins it by digest (docs/images.md);
    // `berth dev` runs the same file with node, no image.
    build: { entry: 'tasks/thumbnail.mjs' },
    cpu: 512,
    memory: 1024,
    capacity: 'FARGATE_SPOT_WITH_FALLBACK',
    environment: { THUMBNAIL_WIDTH: '320' },
  },
  retry: { maxAttempts: 3, backoff: { minDelay: '10s', maxDelay: '2m' } },
  timeout: '10m',
});

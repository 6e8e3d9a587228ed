// Example task for the `thumbnail` job. Reads the trigger berth passes in BERTH_TRIGGER.
const trigger = JSON.parse(process.env.BERTH_TRIGGER ?? '{}');
const width = Number(process.env.THUMBNAIL_WIDTH ?? 320);
console.log(`[thumbnail] run ${process.env.BERTH_RUN_ID} attempt ${process.env.BERTH_ATTEMPT}`);
console.log(
  `[thumbnail] resizing s3://${trigger.bucket}/${trigger.key} (${trigger.size} bytes) to ${width}px`,
);
await new Promise((r) => setTimeout(r, 200));
console.log('[thumbnail] done');

// Example task for the `nightly-report` job.
const trigger = JSON.parse(process.env.BERTH_TRIGGER ?? '{}');
const payload = trigger.payload ?? {};
console.log(
  `[nightly-report] building ${payload.report ?? 'report'} (${trigger.kind} ${trigger.scheduledTime ?? ''})`,
);
await new Promise((r) => setTimeout(r, 300));
console.log('[nightly-report] done');

// Example task for the `order-worker` job.
// Payload fields: orderId; failTimes (fail that many first attempts, to see retries); invalid (exit 2: final).
const trigger = JSON.parse(process.env.BERTH_TRIGGER ?? '{}');
const order = trigger.json ?? trigger.payload ?? {};
const attempt = Number(process.env.BERTH_ATTEMPT ?? 1);
console.log(`[order-worker] order ${order.orderId} attempt ${attempt}`);
if (order.invalid) {
  console.error('[order-worker] invalid order: not retrying');
  process.exit(2);
}
if (attempt <= Number(order.failTimes ?? 0)) {
  console.error(`[order-worker] payment service unavailable (simulated failure ${attempt})`);
  process.exit(1);
}
await new Promise((r) => setTimeout(r, 100));
console.log(`[order-worker] order ${order.orderId} fulfilled`);

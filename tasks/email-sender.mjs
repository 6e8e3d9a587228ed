// Worker for the `email-sender` service-mode job. berth/worker polls the queue (BERTH_QUEUE_URL), extends each
// message's visibility while it is sent, deletes it after success and drains on SIGTERM.
// Message fields: to, subject; fail: true simulates a failure (the message returns and, after 5 receives,
// moves to the dead-letter queue).
import { runWorker } from 'berth/worker';

await runWorker({
  batchSize: 5,
  visibilityTimeout: '30s',
  handler: async (message) => {
    const email = message.json ?? {};
    if (email.fail) throw new Error(`mail server refused ${email.to}`);
    await new Promise((r) => setTimeout(r, 50));
    console.log(
      `[email-sender] worker ${process.env.BERTH_WORKER ?? ''} sent "${email.subject}" to ${email.to}`,
    );
  },
});

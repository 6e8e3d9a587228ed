import { defineSubscriber } from 'berth';

/**
 * Runs once per failed or timed-out run of any job (after retries are exhausted: these events are final).
 * On AWS it is its own Lambda behind a rule on berth's bus; under `berth dev` it runs in the dev process.
 * Swap the log line for a Slack webhook, a ticket, a page; declare `permissions` if it calls AWS.
 */
export default defineSubscriber({ on: ['Job Run Failed', 'Job Run Timed Out'] }, async (event) => {
  const d = event.detail;
  console.error(
    `berth: ${d.job} run ${d.runId} ${d.status} after attempt ${d.attempt}/${d.maxAttempts} (${d.outcome ?? 'unknown'}, exit ${d.exitCode ?? '-'}): ${d.reason ?? 'no reason given'}`,
  );
});

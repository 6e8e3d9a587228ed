/**
 * Where trigger payloads live in the payload bucket. One function for the compiler (each job's task role may
 * read `triggers/<job>/*` only) and the runtime (the launcher writes there), so the two never drift apart.
 */

/** The key prefix of one job's payloads (with the trailing slash). */
export function triggerPayloadPrefix(job: string): string {
  return `triggers/${job}/`;
}

/** The key of one run's trigger payload. */
export function triggerPayloadKey(job: string, runId: string): string {
  return `${triggerPayloadPrefix(job)}${runId}.json`;
}

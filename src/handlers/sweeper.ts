/** Lambda (rate 1 minute): timeouts, lost tasks, stuck launches, stale slots, unpublished final events. */
import { runtimeFromEnv } from '../runtime/aws/runtime.js';
import { type SweepReport, sweep } from '../runtime/aws/sweeper.js';

export const handler = async (): Promise<SweepReport> => {
  const report = await sweep(runtimeFromEnv());
  console.log(JSON.stringify({ msg: 'swept', ...report }));
  // Errors are reported, not thrown: the next sweep a minute later tries again.
  return report;
};

/** Lambda: ECS Task State Change events (berth's tasks, STOPPED) → recorded outcomes, retries, events. */
import { handleTaskStateChange, type InterceptResult } from '../runtime/aws/interceptor.js';
import { runtimeFromEnv } from '../runtime/aws/runtime.js';

export const handler = async (event: unknown): Promise<InterceptResult> => {
  const result = await handleTaskStateChange(runtimeFromEnv(), event);
  console.log(JSON.stringify({ msg: 'intercepted', ...result }));
  return result;
};

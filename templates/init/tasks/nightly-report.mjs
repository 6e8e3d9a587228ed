// The `nightly-report` job's task: the schedule's payload arrives with the trigger.
import { getTrigger } from 'berth/task';

const trigger = await getTrigger('schedule');
console.log(`building the ${trigger.payload?.report ?? 'daily'} report for ${trigger.scheduledTime}`);

// The `reindex` job's task: started by hand, with an optional JSON payload.
import { getTrigger, runId } from 'berth/task';

const trigger = await getTrigger('manual');
console.log(`run ${runId()}: reindexing`, trigger.payload ?? {});

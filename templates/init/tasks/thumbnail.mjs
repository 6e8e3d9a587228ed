// The `thumbnail` job's task. berth/task reads the trigger berth passes to every run (on AWS and locally).
import { attempt, getTrigger } from 'berth/task';

const object = await getTrigger('s3');
console.log(`attempt ${attempt()}: thumbnail of s3://${object.bucket}/${object.key} (${object.size} bytes)`);
// ... resize the image here ...

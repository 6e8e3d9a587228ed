// The `process-order` job's task: one queue message per run. Exit non-zero to have berth retry it.
import { failPermanently, getTrigger } from 'berth/task';

const message = await getTrigger('queue');
const order = JSON.parse(message.body);
if (!order.id) failPermanently('the message has no order id'); // exit 86: no retry
console.log(`processing order ${order.id}`);

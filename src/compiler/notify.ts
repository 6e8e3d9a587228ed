/** Per job with `notify.email`: one SNS topic with the email subscriptions inline (each confirms once). */
import type { Job } from '../core/model/job.js';
import type { Resources } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';

export function compileNotifyTopic(job: Job, ctx: CompileContext): Resources {
  if (!job.notify?.email.length) return {};
  return {
    [logicalIds.notifyTopic(job.name)]: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: ctx.names.notifyTopic(job.name),
        Subscription: job.notify.email.map((Endpoint) => ({ Protocol: 'email', Endpoint })),
      },
    },
  };
}

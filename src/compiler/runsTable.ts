/** Shared: the runs table (on-demand, TTL, indexes by job and time, by status, and of unpublished final events). */
import { RUNS_TABLE, runsTableKeys } from '../runtime/aws/tableSchema.js';
import type { Resources } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';
import { RETAIN } from './taskDefinition.js';

export function compileRunsTable(ctx: CompileContext): Resources {
  return {
    [logicalIds.runsTable]: {
      Type: 'AWS::DynamoDB::Table',
      // Run history outlives a stack deletion or a replacement: removing the stack never loses it.
      ...RETAIN,
      Properties: {
        ...runsTableKeys(ctx.names.runsTable),
        TimeToLiveSpecification: { AttributeName: RUNS_TABLE.ttl, Enabled: true },
        PointInTimeRecoverySpecification: {
          PointInTimeRecoveryEnabled: ctx.config.runsTable.pointInTimeRecovery,
        },
        SSESpecification: { SSEEnabled: true },
      },
    },
  };
}

/** Shared: the runs table (on-demand, TTL, indexes by job and time, by status, and of unpublished final events). */
import { RUNS_TABLE, RUNS_TABLE_INDEXES } from '../runtime/aws/tableSchema.js';
import type { Resources } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';

export function compileRunsTable(ctx: CompileContext): Resources {
  const indexes = RUNS_TABLE_INDEXES;
  const attributes = [RUNS_TABLE.pk, RUNS_TABLE.sk, ...indexes.flatMap((i) => [i.pk, i.sk])];
  return {
    [logicalIds.runsTable]: {
      Type: 'AWS::DynamoDB::Table',
      // Run history outlives a mistaken stack deletion only if asked; the default keeps stacks disposable.
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: ctx.names.runsTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributes.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: RUNS_TABLE.pk, KeyType: 'HASH' },
          { AttributeName: RUNS_TABLE.sk, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: indexes.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.pk, KeyType: 'HASH' },
            { AttributeName: i.sk, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        TimeToLiveSpecification: { AttributeName: RUNS_TABLE.ttl, Enabled: true },
        PointInTimeRecoverySpecification: {
          PointInTimeRecoveryEnabled: ctx.config.runsTable.pointInTimeRecovery,
        },
        SSESpecification: { SSEEnabled: true },
      },
    },
  };
}

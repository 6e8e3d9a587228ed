/**
 * The key schema of berth's runs table, shared by the compiler (which creates the table) and the AWS
 * adapters (which read and write it). Change it here and both follow.
 *
 * - Base table: `pk` (HASH) + `sk` (RANGE), both strings.
 * - `byJob` index: `gsi1pk` (HASH, `JOB#<job>`) + `gsi1sk` (RANGE, `<createdAt>#<runId>`): runs of a job in
 *   time order (`berth runs list --job`).
 * - `byStatus` index: `gsi2pk` (HASH, `STATUS#<status>`) + `gsi2sk` (RANGE, `<updatedAt>#<runId>`): runs in a
 *   status (`berth runs list --status`, the sweeper's scan of launching/running runs).
 * - `byEventPending` index (sparse): `gsi3pk` (HASH, `PENDING#<final status>`) + `gsi3sk` (RANGE,
 *   `<updatedAt>#<runId>`), set only while a final run's event is unpublished: the sweeper's outbox, whatever
 *   the number of final runs.
 * - `ttl`: epoch seconds; DynamoDB deletes the item after it.
 * Every index projects all attributes; every key attribute is a string.
 */
export const RUNS_TABLE = {
  pk: 'pk',
  sk: 'sk',
  ttl: 'ttl',
  gsiByJob: { name: 'byJob', pk: 'gsi1pk', sk: 'gsi1sk' },
  gsiByStatus: { name: 'byStatus', pk: 'gsi2pk', sk: 'gsi2sk' },
  gsiEventPending: { name: 'byEventPending', pk: 'gsi3pk', sk: 'gsi3sk' },
} as const;

/** Every global secondary index of the runs table, in the order they are declared. */
export const RUNS_TABLE_INDEXES = [RUNS_TABLE.gsiByJob, RUNS_TABLE.gsiByStatus, RUNS_TABLE.gsiEventPending];

/**
 * Keys and indexes of the runs table with the property names that both DynamoDB's CreateTable API and
 * CloudFormation's `AWS::DynamoDB::Table` use: the compiler and the moto tests build the table from it.
 */
export function runsTableKeys(tableName: string) {
  const attributes = [RUNS_TABLE.pk, RUNS_TABLE.sk, ...RUNS_TABLE_INDEXES.flatMap((i) => [i.pk, i.sk])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: attributes.map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: RUNS_TABLE.pk, KeyType: 'HASH' as const },
      { AttributeName: RUNS_TABLE.sk, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: RUNS_TABLE_INDEXES.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.pk, KeyType: 'HASH' as const },
        { AttributeName: i.sk, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}

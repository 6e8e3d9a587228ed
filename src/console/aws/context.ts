/**
 * What the parts of the console's AWS source share: the SDK clients (each call counted), the run store, the
 * stage's names and the project's jobs.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Names } from '../../compiler/naming.js';
import type { Job } from '../../core/model/job.js';
import type { DynamoRunStore } from '../../runtime/aws/dynamoRunStore.js';
import { createDocumentClient } from '../../runtime/aws/sdkClients.js';
import type { StackResources } from '../../runtime/aws/stage.js';

export interface SdkClients {
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  ecs: ECSClient;
  logs: CloudWatchLogsClient;
}

export interface SourceContext {
  stage: string;
  service: string;
  resources: StackResources;
  clients: SdkClients;
  store: DynamoRunStore;
  names: Names;
  /** The project's jobs by name (sorted by name). */
  jobsByName: ReadonlyMap<string, Job>;
  now: () => Date;
}

/** One client per service, each pointed at `endpoint` when given (moto in tests). */
export function createClients(base: { region?: string; endpoint?: string }): SdkClients {
  return {
    ddb: createDocumentClient(base),
    sqs: new SQSClient(base),
    ecs: new ECSClient(base),
    logs: new CloudWatchLogsClient(base),
  };
}

/** Counts every call by `<service>.<command>`; DynamoDB reads also ask for and sum their consumed capacity. */
export function instrument(
  clients: SdkClients,
  calls: Map<string, number>,
  onCapacity: (units: number) => void,
): void {
  for (const [service, client] of Object.entries(clients)) {
    (client as { middlewareStack: DynamoDBDocumentClient['middlewareStack'] }).middlewareStack.add(
      (next, context) => async (args) => {
        const name = `${service}.${context.commandName ?? 'unknown'}`;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const input = args.input as Record<string, unknown>;
        if (service === 'ddb' && input && input.ReturnConsumedCapacity === undefined) {
          input.ReturnConsumedCapacity = 'TOTAL';
        }
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
        if (consumed?.CapacityUnits) onCapacity(consumed.CapacityUnits);
        return out;
      },
      { step: 'initialize', name: `berthConsoleCount-${service}` },
    );
  }
}

/** The project's job of that name, or an error naming it. */
export function requireJob(ctx: SourceContext, name: string): Job {
  const job = ctx.jobsByName.get(name);
  if (!job) throw new Error(`there is no job ${name} in this project's job files`);
  return job;
}

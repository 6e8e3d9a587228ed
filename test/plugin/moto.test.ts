/**
 * Integration: the packaged template is deployed the way `serverless deploy` does it — create the stack
 * with the deployment bucket, upload the Lambda zips, update the stack with the full template — into moto
 * server's CloudFormation on 127.0.0.1 (`pip install "moto[server]"`).
 *
 * moto does not model every resource type berth writes. Those types are named below, removed from the
 * deployed variant (references to them become placeholder strings), and the test asserts exactly which
 * were skipped, so nothing is silently pretended.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnValue, Template } from '../../src/compiler/cfn.js';
import { pinImages } from '../../src/plugin/images.js';
import { type MotoServer, startMoto } from '../runtime/aws/motoServer.js';
import { ROOT, serverlessPackage, tmpDir } from './helpers.js';

/** Resource types moto's CloudFormation (5.x) does not model. */
const NOT_MODELLED_BY_MOTO = [
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ApplicationAutoScaling::ScalingPolicy',
  // moto 5.2 leaves a metric-math alarm (Metrics instead of MetricName) out of the stack.
  'AWS::CloudWatch::Alarm',
  'AWS::ECS::ClusterCapacityProviderAssociations',
  'AWS::S3::BucketPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::Scheduler::Schedule',
  'AWS::Scheduler::ScheduleGroup',
];

/** The template minus the types moto lacks; `Ref`s to removed resources become placeholder strings. */
function motoVariant(template: Template): { template: Template; skipped: string[] } {
  const removed = new Set<string>();
  const skipped = new Set<string>();
  const resources = { ...template.Resources };
  for (const [id, r] of Object.entries(resources)) {
    if (NOT_MODELLED_BY_MOTO.includes(r.Type)) {
      removed.add(id);
      skipped.add(r.Type);
      delete resources[id];
    }
  }
  const replace = (v: CfnValue): CfnValue => {
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === 'object') {
      if (typeof v.Ref === 'string' && removed.has(v.Ref)) return `not-modelled-${v.Ref}`;
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    }
    return v;
  };
  for (const r of Object.values(resources)) {
    if (r.Properties) r.Properties = replace(r.Properties) as Record<string, CfnValue>;
    if (r.DependsOn) r.DependsOn = r.DependsOn.filter((d) => !removed.has(d));
  }
  return { template: { ...template, Resources: resources }, skipped: [...skipped].sort() };
}

describe('deploy into moto CloudFormation', () => {
  let moto: MotoServer | undefined;
  let endpoint = '';
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const region = 'us-east-1';

  beforeAll(async () => {
    moto = await startMoto(60_000);
    endpoint = moto.endpoint;
  });

  afterAll(async () => {
    await moto?.stop();
  });

  async function waitFor(cfn: CloudFormationClient, stack: string, done: string): Promise<string> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stack }));
      const status = Stacks?.[0]?.StackStatus ?? 'UNKNOWN';
      if (
        status === done ||
        status.endsWith('FAILED') ||
        status.includes('ROLLBACK') ||
        Date.now() > deadline
      ) {
        return `${status}${Stacks?.[0]?.StackStatusReason ? `: ${Stacks[0].StackStatusReason}` : ''}`;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it('creates the packaged example stack the way serverless deploy does', async () => {
    // A copy of the example service, so this test never races the package test over .serverless/.
    const dir = tmpDir('moto');
    cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
    cpSync(join(ROOT, 'tasks'), join(dir, 'tasks'), { recursive: true });
    writeFileSync(
      join(dir, 'serverless.yml'),
      readFileSync(join(ROOT, 'serverless.yml'), 'utf8').replace('./dist/plugin/index.cjs', 'berth/plugin'),
    );
    const { create, update } = await serverlessPackage(dir);
    const cfn = new CloudFormationClient({ endpoint, region, credentials });
    const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
    const StackName = 'berth-example-dev';

    const first = motoVariant(create);
    expect(first.skipped).toEqual(['AWS::S3::BucketPolicy']);
    await cfn.send(new CreateStackCommand({ StackName, TemplateBody: JSON.stringify(first.template) }));
    expect(await waitFor(cfn, StackName, 'CREATE_COMPLETE')).toBe('CREATE_COMPLETE');

    const listed = await cfn.send(new ListStackResourcesCommand({ StackName }));
    const bucket = listed.StackResourceSummaries?.find(
      (r) => r.LogicalResourceId === 'ServerlessDeploymentBucket',
    )?.PhysicalResourceId;
    expect(bucket).toBeTruthy();
    for (const fn of ['Launcher', 'Interceptor', 'Sweeper']) {
      const code = update.Resources[`Berth${fn}LambdaFunction`]!.Properties!.Code as { S3Key: string };
      const zip = readFileSync(join(dir, '.serverless/berth', basename(code.S3Key)));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: code.S3Key, Body: zip }));
    }

    // The example jobs build their images: serverless deploy's image step (test/plugin/images.moto.test.ts)
    // pins each one's digest into the template before the update; a fixed digest stands in for it here.
    expect(Object.keys(update.Parameters ?? {}).sort()).toEqual([
      'BerthJobEmailSenderImage',
      'BerthJobNightlyReportImage',
      'BerthJobOrderWorkerImage',
      'BerthJobThumbnailImage',
    ]);
    const pinned = `123456789012.dkr.ecr.us-east-1.amazonaws.com/berth/berth-example-dev@sha256:${'ab'.repeat(32)}`;
    pinImages(update, {
      'email-sender': pinned,
      'nightly-report': pinned,
      'order-worker': pinned,
      thumbnail: pinned,
    });
    expect(update.Parameters).toBeUndefined();
    const full = motoVariant(update);
    expect(full.skipped).toEqual(NOT_MODELLED_BY_MOTO);
    await cfn.send(
      new UpdateStackCommand({
        StackName,
        TemplateBody: JSON.stringify(full.template),
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
      }),
    );
    expect(await waitFor(cfn, StackName, 'UPDATE_COMPLETE')).toBe('UPDATE_COMPLETE');

    const after = await cfn.send(new ListStackResourcesCommand({ StackName }));
    const ids = new Set(after.StackResourceSummaries?.map((r) => r.LogicalResourceId));
    for (const id of Object.keys(full.template.Resources)) expect(ids.has(id), id).toBe(true);

    const ddb = new DynamoDBClient({ endpoint, region, credentials });
    const table = await ddb.send(new DescribeTableCommand({ TableName: 'berth-example-dev__runs' }));
    expect(table.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([
      'byEventPending',
      'byJob',
      'byStatus',
    ]);
    const ecs = new ECSClient({ endpoint, region, credentials });
    const td = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'berth-example-dev__thumbnail' }),
    );
    expect(td.taskDefinition?.containerDefinitions?.[0]?.name).toBe('main');
    expect(td.taskDefinition?.family).toBe('berth-example-dev__thumbnail');
    expect(td.taskDefinition?.containerDefinitions?.[0]?.image).toBe(pinned);
  }, 240_000);
});

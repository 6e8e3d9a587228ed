import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enableEventBridgeOnOwnedBuckets } from '../../src/compiler/buckets.js';
import { MAX_RESOURCES } from '../../src/compiler/budget.js';
import type { Resources } from '../../src/compiler/cfn.js';
import { compileService } from '../../src/compiler/compile.js';
import { CompileError, ResourceBudgetError } from '../../src/compiler/errors.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { createZip } from '../../src/compiler/zip.js';
import { BERTH_ENV } from '../../src/runtime/aws/manifest.js';
import { generatedJobs, job } from './helpers.js';

const ASSETS = { launcher: 'launcher-x.zip', interceptor: 'interceptor-x.zip', sweeper: 'sweeper-x.zip' };

describe('compileService', () => {
  const jobs = [
    job({ name: 'thumb', trigger: { s3: { bucket: 'uploads', suffix: '.jpg' } } }),
    job({ name: 'nightly', trigger: { schedule: { expression: 'cron(0 2 * * ? *)' } } }),
    job({ name: 'orders', trigger: { queue: {} } }),
    job({ name: 'manual' }),
    job({
      name: 'secure',
      trigger: { s3: { bucket: 'uploads' } },
      task: { image: 'i', permissions: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] }] },
    }),
  ];
  const compiled = compileService({ jobs, service: 'shop', stage: 'dev' });

  it('spends the resource budget: task definition + task role (every task job reads its own payloads), + 1 per S3/schedule trigger, + 3 per own queue', () => {
    expect(compiled.perJob).toEqual({ thumb: 3, nightly: 3, orders: 5, manual: 2, secure: 3 });
  });

  it('writes the shared core once', () => {
    const types = (t: string) =>
      Object.entries(compiled.resources)
        .filter(([, r]) => r.Type === t)
        .map(([id]) => id);
    expect(types('AWS::ECS::Cluster')).toEqual(['BerthCluster']);
    expect(compiled.resources.BerthClusterCapacityProviders!.Properties!.CapacityProviders).toEqual([
      'FARGATE',
      'FARGATE_SPOT',
    ]);
    expect(types('AWS::DynamoDB::Table')).toEqual(['BerthRunsTable']);
    expect(compiled.resources.BerthRunsTable!.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    expect(
      (compiled.resources.BerthRunsTable!.Properties!.GlobalSecondaryIndexes as { IndexName: string }[]).map(
        (i) => i.IndexName,
      ),
    ).toEqual(['byJob', 'byStatus', 'byEventPending']);
    expect(types('AWS::Events::EventBus')).toEqual(['BerthEventBus']);
    expect(types('AWS::Scheduler::ScheduleGroup')).toEqual(['BerthScheduleGroup']);
    expect(compiled.resources.BerthLauncherLaunchQueueMapping!.Properties).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    expect(compiled.resources.BerthLaunchQueue!.Properties!.VisibilityTimeout).toBe(180);
    expect(compiled.resources.BerthPayloadBucket!.Properties!.LifecycleConfiguration).toEqual({
      Rules: [{ Id: 'expire-payloads', Status: 'Enabled', ExpirationInDays: 14 }],
    });
    expect(compiled.resources.BerthSweeperSchedule!.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      Target: { Arn: { 'Fn::GetAtt': ['BerthSweeperLambdaFunction', 'Arn'] } },
    });
  });

  it('routes stopped tasks of berth cluster that berth or a service of this stage started to the interceptor', () => {
    expect(compiled.resources.BerthTaskStoppedRule!.Properties!.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [{ 'Fn::GetAtt': ['BerthCluster', 'Arn'] }],
        lastStatus: ['STOPPED'],
        $or: [
          { startedBy: [{ prefix: 'berth/' }] },
          {
            group: [{ prefix: 'service:' }],
            taskDefinitionArn: [
              {
                prefix: {
                  'Fn::Sub': `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:task-definition/shop-dev__`,
                },
              },
            ],
          },
        ],
      },
    });
    expect(compiled.manifest.ec2CapacityProvider).toBeUndefined();
  });

  it('writes the manifest the handlers read and sets every BERTH_ENV variable', () => {
    expect(compiled.manifest.tasks.orders).toEqual({
      family: 'shop-dev__orders',
      containerName: 'main',
      logGroup: '/berth/shop-dev/jobs',
      hasTaskRole: true,
    });
    expect(compiled.manifest.queues).toEqual({ 'shop-dev__orders': 'orders' });
    expect(compiled.manifest.jobs.map((j) => j.name)).toEqual([
      'manual',
      'nightly',
      'orders',
      'secure',
      'thumb',
    ]);
    const env = compiled.functions[0]!.environment;
    for (const name of Object.values(BERTH_ENV)) expect(env[name], name).toBeDefined();
    expect(env[BERTH_ENV.assignPublicIp]).toBe('ENABLED');
  });

  it('uses an existing cluster and network when given', () => {
    const c = compileService({
      jobs,
      service: 'shop',
      stage: 'dev',
      config: {
        cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/shared',
        network: { subnets: ['subnet-0123456789abcdef0'], securityGroups: ['sg-0123456789abcdef0'] },
      },
    });
    expect(c.resources.BerthCluster).toBeUndefined();
    expect(c.resources.BerthVpc).toBeUndefined();
    expect(c.functions[0]!.environment[BERTH_ENV.cluster]).toBe(
      'arn:aws:ecs:us-east-1:123456789012:cluster/shared',
    );
    expect(c.functions[0]!.environment[BERTH_ENV.assignPublicIp]).toBe('DISABLED');
    expect(Object.keys(compiled.resources).length - Object.keys(c.resources).length).toBe(12);
  });

  it('rejects a mistyped custom.berth with the path and the fix', () => {
    expect(() =>
      compileService({ jobs, service: 's', stage: 'd', config: { netwrok: 'create' } as never }),
    ).toThrow(CompileError);
    expect(() => compileService({ jobs, service: 's', stage: 'd', config: { cluster: 'mine' } })).toThrow(
      /custom\.berth\.cluster: .*use create, or arn:aws:ecs/,
    );
  });

  it('enables EventBridge on trigger buckets the stack owns and reports the others', () => {
    const own: Resources = {
      Uploads: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'uploads' } },
    };
    expect(enableEventBridgeOnOwnedBuckets(own, ['other', 'uploads'])).toEqual(['other']);
    expect(own.Uploads!.Properties!.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
  });
});

describe('resource budget', () => {
  it('fits 120 generated jobs in one template, ≤ 4 per S3/schedule job and ≤ 6 per queue job', () => {
    const compiled = compileService({ jobs: generatedJobs(120), service: 'big', stage: 'dev' });
    const { budget } = synthesizeTemplate(compiled, ASSETS);
    expect(budget.total).toBeLessThanOrEqual(MAX_RESOURCES);
    expect(budget.templateBytes).toBeLessThan(1_000_000);
    for (const [name, count] of Object.entries(budget.perJob)) {
      const isQueue = Number(name.slice(4)) % 3 === 2;
      expect(count).toBeLessThanOrEqual(isQueue ? 6 : 4);
    }
  });

  it('fails past 500 resources with the count and how to split the service', () => {
    const compiled = compileService({ jobs: generatedJobs(300), service: 'huge', stage: 'dev' });
    let error: unknown;
    try {
      synthesizeTemplate(compiled, ASSETS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResourceBudgetError);
    const err = error as ResourceBudgetError;
    expect(err.resourceCount).toBeGreaterThan(500);
    expect(err.message).toContain(`${err.resourceCount} resources (CloudFormation allows 500 per stack)`);
    expect(err.message).toMatch(/split the jobs into several services of about \d+ jobs each/);
  });
});

describe('createZip', () => {
  it('writes a deterministic zip that unzip tools read back', () => {
    const entries = [
      { name: 'b.mjs', data: Buffer.from('export const handler = async () => 1;\n') },
      { name: 'b.mjs.map', data: Buffer.from('{"version":3}') },
    ];
    const zip = createZip(entries);
    expect(createZip([...entries].reverse()).equals(zip)).toBe(true);
    const dir = join(process.cwd(), '.tmp', `zip-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.zip'), zip);
    const out = execFileSync('python3', [
      '-c',
      'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(z.read("b.mjs").decode(), end="")',
      join(dir, 'a.zip'),
    ]).toString();
    expect(out).toBe('export const handler = async () => 1;\n');
  });
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are expected values here
/** Subscribers: one Lambda spec, role, rule and permission each; outcome rules on berth's bus, raw ones on the default bus. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { compileService } from '../../src/compiler/compile.js';
import { CompileError } from '../../src/compiler/errors.js';
import { renderFunction } from '../../src/compiler/functions.js';
import { bundleSubscribers, subscriberEntry } from '../../src/compiler/subscriberBundle.js';
import { compileSubscriber, subscriberFunctionSpec } from '../../src/compiler/subscribers.js';
import {
  createTaskStoppedHandler,
  defineSubscriber,
  defineTaskStoppedSubscriber,
  type LoadedSubscriber,
  type SubscriberPermission,
} from '../../src/subscriber/index.js';
import { context, job, resource } from './helpers.js';

const jobs = [
  job({ name: 'thumbnail', trigger: { s3: { bucket: 'uploads' } } }),
  job({ name: 'nightly-report', trigger: { schedule: { expression: 'cron(0 2 * * ? *)' } } }),
];

/** What loadSubscribers returns for a file (its subscriber typed over every event type, as loaded). */
const loaded = (file: string, name: string, subscriber: unknown): LoadedSubscriber => ({
  file,
  name,
  subscriber: subscriber as LoadedSubscriber['subscriber'],
});

const pageOnFailure = loaded(
  'subscribers/page-on-failure.ts',
  'page-on-failure',
  defineSubscriber(
    {
      on: ['Job Run Failed', 'Job Run Timed Out'],
      jobs: ['nightly-report'],
      permissions: [{ actions: ['sns:Publish'], resources: ['arn:aws:sns:us-east-1:123456789012:pager'] }],
    },
    () => {},
  ),
);

const auditStops: LoadedSubscriber = {
  file: 'subscribers/audit-stops.ts',
  name: 'audit-stops',
  subscriber: defineTaskStoppedSubscriber({ jobs: ['thumbnail'] }, () => {}),
};

describe('compileSubscriber (defineSubscriber)', () => {
  const ctx = context();
  const { resources, functions } = compileSubscriber(pageOnFailure, jobs, ctx);

  it('gives the Lambda spec Serverless-compatible ids, its own name, nodejs defaults and the file as entry', () => {
    expect(functions).toEqual([
      {
        kind: 'subscriberPageOnFailure',
        key: 'berthSubscriberPageOnFailure',
        name: 'svc-dev-sub-page-on-failure',
        handler: 'subscriberPageOnFailure.handler',
        entry: 'subscribers/page-on-failure.ts',
        timeout: 30,
        memorySize: 256,
        environment: {},
        roleLogicalId: 'BerthSubscriberPageOnFailureRole',
        subscriber: { file: 'subscribers/page-on-failure.ts', raw: false },
      },
    ]);
    const rendered = renderFunction(functions[0]!, { S3Bucket: 'b', S3Key: 'k' }, ctx);
    expect(Object.keys(rendered)).toEqual([
      'BerthSubscriberPageOnFailureLogGroup',
      'BerthSubscriberPageOnFailureLambdaFunction',
    ]);
    expect(rendered.BerthSubscriberPageOnFailureLambdaFunction!.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Role: { 'Fn::GetAtt': ['BerthSubscriberPageOnFailureRole', 'Arn'] },
    });
  });

  it('puts a rule on berth bus with subscriberPattern, targeting the Lambda with retries', () => {
    const p = resource(resources, 'BerthSubscriberPageOnFailureRule', 'AWS::Events::Rule').Properties!;
    expect(p.Name).toBe('svc-dev__sub-page-on-failure');
    expect(p.EventBusName).toEqual({ Ref: 'BerthEventBus' });
    expect(p.EventPattern).toEqual({
      source: ['berth'],
      'detail-type': ['Job Run Failed', 'Job Run Timed Out'],
      detail: { job: ['nightly-report'] },
    });
    expect(p.Targets).toEqual([
      {
        Id: 'subscriber',
        Arn: { 'Fn::GetAtt': ['BerthSubscriberPageOnFailureLambdaFunction', 'Arn'] },
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      },
    ]);
  });

  it('lets only that rule invoke the Lambda', () => {
    expect(
      resource(resources, 'BerthSubscriberPageOnFailurePermission', 'AWS::Lambda::Permission').Properties,
    ).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: 'BerthSubscriberPageOnFailureLambdaFunction' },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['BerthSubscriberPageOnFailureRule', 'Arn'] },
    });
  });

  it('gives the role its own log group plus the declared statements, nothing else', () => {
    const p = resource(resources, 'BerthSubscriberPageOnFailureRole', 'AWS::IAM::Role').Properties!;
    expect(p.RoleName).toBe('svc-dev__sub-page-on-failure');
    const [policy] = p.Policies as { PolicyDocument: { Statement: unknown[] } }[];
    expect(policy!.PolicyDocument.Statement).toEqual([
      {
        Sid: 'OwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [{ 'Fn::Sub': '${BerthSubscriberPageOnFailureLogGroup.Arn}' }],
      },
      {
        Effect: 'Allow',
        Action: ['sns:Publish'],
        Resource: ['arn:aws:sns:us-east-1:123456789012:pager'],
      },
    ]);
    const logsOnly = compileSubscriber(
      loaded(
        pageOnFailure.file,
        pageOnFailure.name,
        defineSubscriber({ on: ['Job Run Failed'] }, () => {}),
      ),
      jobs,
      ctx,
    );
    const role = logsOnly.resources.BerthSubscriberPageOnFailureRole!.Properties!;
    expect(
      (role.Policies as { PolicyDocument: { Statement: unknown[] } }[])[0]!.PolicyDocument.Statement,
    ).toHaveLength(1);
  });

  it('names the file and the known jobs when jobs: lists an unknown job', () => {
    const typo = loaded(
      pageOnFailure.file,
      pageOnFailure.name,
      defineSubscriber({ on: ['Job Run Failed'], jobs: ['nightly'] }, () => {}),
    );
    expect(() => compileSubscriber(typo, jobs, ctx)).toThrow(CompileError);
    expect(() => compileSubscriber(typo, jobs, ctx)).toThrow(
      'subscribers/page-on-failure.ts: jobs: no job named nightly — use one of thumbnail, nightly-report',
    );
  });

  it('rejects a malformed permission, naming the file (defineSubscriber itself loads no zod)', () => {
    const bad = (permissions: SubscriberPermission[]) =>
      loaded(
        pageOnFailure.file,
        pageOnFailure.name,
        defineSubscriber({ on: ['Job Run Failed'], permissions }, () => {}),
      );
    expect(() => compileSubscriber(bad([{ actions: ['publish'], resources: ['*'] }]), jobs, ctx)).toThrow(
      /^subscribers\/page-on-failure\.ts: permissions\[0\]\.actions\[0\]: is not an IAM action/,
    );
    // In berth's words, never zod's ("Invalid option: expected one of").
    expect(() =>
      compileSubscriber(
        bad([{ effect: 'Maybe' as 'Allow', actions: ['sns:Publish'], resources: ['*'] }]),
        jobs,
        ctx,
      ),
    ).toThrow(
      "subscribers/page-on-failure.ts: permissions[0].effect: is the text \"Maybe\", not one of 'Allow', 'Deny' — use one of 'Allow', 'Deny'",
    );
    expect(() =>
      defineSubscriber({ on: ['Job Run Failed'], permissions: 'sns:Publish' as never }, () => {}),
    ).toThrow('permissions: is not a list');
  });
});

describe('compileSubscriber (defineTaskStoppedSubscriber)', () => {
  const ctx = context();
  const { resources, functions } = compileSubscriber(auditStops, jobs, ctx);

  it('puts the raw rule on the default bus: STOPPED berth tasks of the listed jobs on berth cluster', () => {
    const p = resource(resources, 'BerthSubscriberAuditStopsRule', 'AWS::Events::Rule').Properties!;
    expect(p.EventBusName).toBeUndefined();
    expect(p.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [{ 'Fn::GetAtt': ['BerthCluster', 'Arn'] }],
        startedBy: [{ prefix: 'berth/' }],
        lastStatus: ['STOPPED'],
        taskDefinitionArn: [
          {
            prefix: {
              'Fn::Sub':
                'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/svc-dev__thumbnail:',
            },
          },
        ],
      },
    });
    expect(functions[0]!.subscriber).toEqual({ file: 'subscribers/audit-stops.ts', raw: true });
  });

  it('without jobs: narrows to this stage task definitions; allStates drops the STOPPED filter', () => {
    const all: LoadedSubscriber = {
      ...auditStops,
      subscriber: defineTaskStoppedSubscriber({ allStates: true }, () => {}),
    };
    const p = compileSubscriber(all, jobs, ctx).resources.BerthSubscriberAuditStopsRule!.Properties!;
    const detail = (p.EventPattern as { detail: Record<string, unknown> }).detail;
    expect(detail.lastStatus).toBeUndefined();
    expect(detail.taskDefinitionArn).toEqual([
      {
        prefix: {
          'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/svc-dev__',
        },
      },
    ]);
  });

  it('its handler passes only berth task stops to the user function', async () => {
    const seen: string[] = [];
    const handler = createTaskStoppedHandler(
      defineTaskStoppedSubscriber({}, (e) => void seen.push(e.detail.taskArn)),
    );
    const event = (startedBy: string, lastStatus: string) => ({
      source: 'aws.ecs',
      'detail-type': 'ECS Task State Change',
      detail: { taskArn: `${startedBy}/${lastStatus}`, startedBy, lastStatus },
    });
    await handler(event('berth/r1', 'STOPPED'));
    await handler(event('berth/r1', 'RUNNING'));
    await handler(event('ecs-svc/123', 'STOPPED'));
    expect(seen).toEqual(['berth/r1/STOPPED']);
  });
});

describe('compileService with subscribers', () => {
  it('adds the subscriber resources to the shared count and its Lambda to the functions', () => {
    const without = compileService({ jobs, service: 'svc', stage: 'dev' });
    const compiled = compileService({
      jobs,
      service: 'svc',
      stage: 'dev',
      subscribers: [pageOnFailure, auditStops],
    });
    expect(Object.keys(compiled.resources).length - Object.keys(without.resources).length).toBe(6);
    expect(compiled.perJob).toEqual(without.perJob);
    expect(compiled.functions.map((f) => f.key)).toEqual([
      'berthLauncher',
      'berthInterceptor',
      'berthSweeper',
      'berthSubscriberPageOnFailure',
      'berthSubscriberAuditStops',
    ]);
  });
});

describe('bundleSubscribers', () => {
  const dir = join(process.cwd(), '.tmp', `subscriber-bundle-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bundles the file into <kind>.mjs whose handler runs the subscriber on matching events only', async () => {
    mkdirSync(join(dir, 'subscribers'), { recursive: true });
    const out = join(dir, 'out.txt');
    writeFileSync(
      join(dir, 'subscribers', 'page-on-failure.ts'),
      `import { appendFileSync } from 'node:fs';
import { defineSubscriber } from 'berth';
export default defineSubscriber({ on: ['Job Run Failed'] }, (e) => appendFileSync(${JSON.stringify(out)}, e.detail.runId + '\\n'));
`,
    );
    const spec = subscriberFunctionSpec(pageOnFailure, context());
    expect(subscriberEntry(spec, dir, join(process.cwd(), 'src'))).toContain(
      'createSubscriberHandler(subscriber)',
    );
    const [bundle] = await bundleSubscribers({
      serviceDir: dir,
      berthRoot: join(process.cwd(), 'src'),
      moduleExt: '.ts',
      outDir: join(dir, 'assets'),
      functions: [spec],
    });
    expect(bundle!.fileName).toMatch(/^subscriberPageOnFailure-[0-9a-f]{12}\.zip$/);
    // Unpack the zip's first entry (the module; the map sorts after it) and import it as Lambda would.
    const zip = readFileSync(bundle!.zipPath);
    const nameLength = zip.readUInt16LE(26);
    const extraLength = zip.readUInt16LE(28);
    const compressed = zip.readUInt32LE(18);
    const name = zip.subarray(30, 30 + nameLength).toString();
    const start = 30 + nameLength + extraLength;
    const code = inflateRawSync(zip.subarray(start, start + compressed));
    expect(name).toBe('subscriberPageOnFailure.mjs');
    const file = join(dir, 'unpacked.mjs');
    // The linked map stays in the zip; drop the reference so the test runner does not look for it.
    writeFileSync(file, code.toString().replace(/\/\/# sourceMappingURL=.*$/m, ''));
    const { handler } = (await import(file)) as { handler: (e: unknown) => Promise<void> };
    const detail = { job: 'thumbnail', runId: 'r42' };
    await handler({
      source: 'berth',
      'detail-type': 'Job Run Succeeded',
      detail: { ...detail, runId: 'r41' },
    });
    await handler({ source: 'berth', 'detail-type': 'Job Run Failed', detail });
    expect(readFileSync(out, 'utf8')).toBe('r42\n');
  }, 60_000);
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are expected values here
/**
 * The runs console's IAM (the exact actions and resources), the managed policy people attach, and the App
 * Runner service of `custom.berth.console.appRunner`: its shape in each access mode, and cfn-lint on the
 * service stack and the images stack.
 */
import { describe, expect, it } from 'vitest';
import {
  APP_RUNNER_NAME_MAX,
  CONSOLE_ENV,
  CONSOLE_HEALTH_PATH,
  CONSOLE_PORT,
  consoleIds,
  consoleNames,
} from '../../src/compiler/appRunner.js';
import type { CfnValue, PolicyStatement, Template } from '../../src/compiler/cfn.js';
import { compileService } from '../../src/compiler/compile.js';
import { appRunnerConfigSchema, type BerthConfigInput } from '../../src/compiler/config.js';
import { CONSOLE_POLICY_ID, CONSOLE_POLICY_OUTPUT, consoleStatements } from '../../src/compiler/console.js';
import { CONSOLE_REPOSITORY_ID, PINNED_IMAGE_PATTERN } from '../../src/compiler/ecr.js';
import { CompileError } from '../../src/compiler/errors.js';
import { createNames, logicalIds } from '../../src/compiler/naming.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import type { Job } from '../../src/core/model/job.js';
import { cfnLintTemplate } from '../helpers/cfnLint.js';
import { context, job } from './helpers.js';

const ASSETS = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };
const PINNED = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools/berth-console@sha256:${'b'.repeat(64)}`;

const jobs: Job[] = [
  job({ name: 'nightly', trigger: { schedule: { expression: 'cron(0 3 * * ? *)' } } }),
  job({ name: 'orders', trigger: { queue: { batchSize: 1 } } }),
  job({
    name: 'legacy',
    trigger: { queue: { existing: 'arn:aws:sqs:eu-west-1:123456789012:legacy-orders', batchSize: 1 } },
  }),
];

function compile(config: BerthConfigInput = {}) {
  return compileService({ jobs, config, service: 'shop', stage: 'dev' });
}

function statementsOf(resource: { Properties?: Record<string, CfnValue> }): PolicyStatement[] {
  const p = resource.Properties!;
  const doc = (p.PolicyDocument ??
    (p.Policies as { PolicyDocument: CfnValue }[])[0]!.PolicyDocument) as unknown as {
    Statement: PolicyStatement[];
  };
  return doc.Statement;
}

const sqs = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${name}`,
});
const clusterSub = (kind: string) => ({
  'Fn::Sub': [
    `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:${kind}/\${Cluster}/*`,
    { Cluster: { Ref: 'BerthCluster' } },
  ],
});
const inCluster = { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': ['BerthCluster', 'Arn'] } } };

/** The whole list, written out: a grant added or dropped must show up here. */
const EXPECTED: PolicyStatement[] = [
  {
    Sid: 'ReadRuns',
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:Query'],
    Resource: [{ 'Fn::GetAtt': ['BerthRunsTable', 'Arn'] }, { 'Fn::Sub': '${BerthRunsTable.Arn}/index/*' }],
  },
  {
    Sid: 'CancelQueuedRuns',
    Effect: 'Allow',
    Action: ['dynamodb:UpdateItem'],
    Resource: [{ 'Fn::GetAtt': ['BerthRunsTable', 'Arn'] }],
  },
  {
    Sid: 'ReadJobLogs',
    Effect: 'Allow',
    Action: ['logs:GetLogEvents'],
    Resource: [
      {
        'Fn::Sub':
          'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/berth/shop-dev/jobs:*',
      },
      {
        'Fn::Sub':
          'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/berth/shop-dev/jobs/*',
      },
    ],
  },
  {
    Sid: 'DescribeAndStopBerthTasks',
    Effect: 'Allow',
    Action: ['ecs:DescribeTasks', 'ecs:StopTask'],
    Resource: [clusterSub('task')],
    Condition: inCluster,
  },
  {
    Sid: 'DescribeWorkerServices',
    Effect: 'Allow',
    Action: ['ecs:DescribeServices'],
    Resource: [clusterSub('service')],
    Condition: inCluster,
  },
  {
    Sid: 'ListWorkerServices',
    Effect: 'Allow',
    Action: ['ecs:ListServices'],
    Resource: ['*'],
    Condition: { ArnEqualsIfExists: { 'ecs:cluster': { 'Fn::GetAtt': ['BerthCluster', 'Arn'] } } },
  },
  {
    Sid: 'DescribeTaskDefinitions',
    Effect: 'Allow',
    Action: ['ecs:DescribeTaskDefinition'],
    Resource: ['*'],
  },
  {
    Sid: 'ReadQueueDepths',
    Effect: 'Allow',
    Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
    Resource: [sqs('shop-dev__*'), 'arn:aws:sqs:eu-west-1:123456789012:legacy-orders'],
  },
  {
    Sid: 'SendLaunchesAndRedrives',
    Effect: 'Allow',
    Action: ['sqs:SendMessage'],
    Resource: [sqs('shop-dev__*'), 'arn:aws:sqs:eu-west-1:123456789012:legacy-orders'],
  },
  {
    Sid: 'MoveDeadLetters',
    Effect: 'Allow',
    Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
    Resource: [sqs('shop-dev__*-dlq'), sqs('shop-dev__*-dlq.fifo')],
  },
];

describe('consoleStatements', () => {
  it('grants exactly the reads and the actions of the console', () => {
    expect(consoleStatements(context({}, 'shop', 'dev'), jobs)).toEqual(EXPECTED);
  });

  it('never puts or deletes runs, deletes from a job queue or touches anything outside the stage', () => {
    const statements = consoleStatements(context({}, 'shop', 'dev'), jobs);
    const actions = statements.flatMap((s) => s.Action);
    expect(actions.filter((a) => /^dynamodb:(Put|Delete|BatchWrite|Scan)/.test(a))).toEqual([]);
    expect(actions).not.toContain('ecs:RunTask');
    expect(actions).not.toContain('iam:PassRole');
    const deletes = statements.filter((s) => s.Action.includes('sqs:DeleteMessage'));
    expect(deletes.flatMap((s) => s.Resource)).toEqual([sqs('shop-dev__*-dlq'), sqs('shop-dev__*-dlq.fifo')]);
    // "*" only where AWS has no resource type, and ListTasks only in berth's cluster.
    for (const s of statements.filter((x) => x.Resource.includes('*')))
      expect([['ecs:ListServices'], ['ecs:DescribeTaskDefinition']]).toContainEqual(s.Action);
  });

  it("names an existing cluster's tasks by its name", () => {
    const arn = 'arn:aws:ecs:eu-west-1:123456789012:cluster/shared';
    const statements = consoleStatements(context({ cluster: arn }, 'shop', 'dev'), jobs);
    const stop = statements.find((s) => s.Sid === 'DescribeAndStopBerthTasks')!;
    expect(stop.Resource).toEqual([
      {
        'Fn::Sub': [
          'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*',
          { Cluster: 'shared' },
        ],
      },
    ]);
    expect(stop.Condition).toEqual({ ArnEquals: { 'ecs:cluster': arn } });
  });
});

describe('the managed policy for people who run berth console --stage', () => {
  const compiled = compile();
  it('is in every stack, with the console statements and DescribeStacks on this stack, and is an output', () => {
    const policy = compiled.resources[CONSOLE_POLICY_ID]!;
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    expect(statementsOf(policy)).toEqual([
      ...EXPECTED,
      {
        Sid: 'FindStackResources',
        Effect: 'Allow',
        Action: ['cloudformation:DescribeStacks'],
        Resource: [{ Ref: 'AWS::StackId' }],
      },
    ]);
    expect(compiled.outputs[CONSOLE_POLICY_OUTPUT]?.Value).toEqual({ Ref: CONSOLE_POLICY_ID });
  });

  it('adds no App Runner resource unless asked', () => {
    expect(Object.values(compiled.resources).filter((r) => r.Type.startsWith('AWS::AppRunner::'))).toEqual(
      [],
    );
    expect(compiled.parameters[consoleIds.imageParameter]).toBeUndefined();
    expect(compiled.imagesTemplate).toBeUndefined();
  });

  it('passes cfn-lint', () => {
    const { template } = synthesizeTemplate(compiled, ASSETS);
    expect(cfnLintTemplate(template, 'console-policy')).toEqual({ status: 0, output: '' });
  }, 120_000); // cfn-lint takes seconds per template, more on a busy machine
});

type Props = Record<string, CfnValue>;
const props = (t: Template | ReturnType<typeof compile>, id: string): Props => {
  const r = ('Resources' in t ? t.Resources : t.resources)[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r.Properties as Props;
};

describe('console.appRunner: true (private, berth builds the image)', () => {
  const compiled = compile({ console: { appRunner: true } });
  const { template } = synthesizeTemplate(compiled, ASSETS);
  const service = props(compiled, consoleIds.service);
  const types = Object.entries(compiled.resources)
    .filter(([id]) => id.startsWith('BerthConsole'))
    .map(([id, r]) => `${id} ${r.Type}`)
    .sort();

  it('adds the service, its roles, one-instance auto scaling, the token, the endpoint and the ingress connection', () => {
    expect(types).toEqual([
      'BerthConsoleAccessRole AWS::IAM::Role',
      'BerthConsoleAutoScaling AWS::AppRunner::AutoScalingConfiguration',
      'BerthConsoleEndpointSecurityGroup AWS::EC2::SecurityGroup',
      'BerthConsoleInstanceRole AWS::IAM::Role',
      'BerthConsolePolicy AWS::IAM::ManagedPolicy',
      'BerthConsoleService AWS::AppRunner::Service',
      'BerthConsoleTokenSecret AWS::SecretsManager::Secret',
      'BerthConsoleVpcEndpoint AWS::EC2::VPCEndpoint',
      'BerthConsoleVpcIngressConnection AWS::AppRunner::VpcIngressConnection',
    ]);
    const scaling = props(compiled, consoleIds.autoScaling);
    expect(scaling).toMatchObject({ MinSize: 1, MaxSize: 1 });
    expect(service.AutoScalingConfigurationArn).toEqual({
      'Fn::GetAtt': [consoleIds.autoScaling, 'AutoScalingConfigurationArn'],
    });
  });

  it('is private: not publicly accessible, reached through an apprunner.requests endpoint in the VPC', () => {
    expect(service.NetworkConfiguration).toEqual({
      IngressConfiguration: { IsPubliclyAccessible: false },
      EgressConfiguration: { EgressType: 'DEFAULT' },
    });
    expect(props(compiled, consoleIds.vpcEndpoint)).toEqual({
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.apprunner.requests' },
      VpcId: { Ref: logicalIds.vpc },
      SubnetIds: [{ Ref: logicalIds.subnet(0) }, { Ref: logicalIds.subnet(1) }],
      SecurityGroupIds: [{ 'Fn::GetAtt': [consoleIds.endpointSecurityGroup, 'GroupId'] }],
    });
    expect(props(compiled, consoleIds.ingressConnection)).toEqual({
      VpcIngressConnectionName: 'shop-dev-console',
      ServiceArn: { 'Fn::GetAtt': [consoleIds.service, 'ServiceArn'] },
      IngressVpcConfiguration: {
        VpcId: { Ref: logicalIds.vpc },
        VpcEndpointId: { Ref: consoleIds.vpcEndpoint },
      },
    });
    // HTTPS from inside the VPC only.
    expect(props(compiled, consoleIds.endpointSecurityGroup).SecurityGroupIngress).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        CidrIp: { 'Fn::GetAtt': [logicalIds.vpc, 'CidrBlock'] },
        Description: 'HTTPS from the VPC',
      },
    ]);
    expect(compiled.outputs.BerthConsoleUrl?.Value).toEqual({
      'Fn::Sub': `https://\${${consoleIds.ingressConnection}.DomainName}`,
    });
  });

  it('gives the instance role exactly the console statements and the read of its token', () => {
    const role = compiled.resources[consoleIds.instanceRole]!;
    expect(
      (role.Properties!.AssumeRolePolicyDocument as { Statement: { Principal: CfnValue }[] }).Statement[0]!
        .Principal,
    ).toEqual({ Service: 'tasks.apprunner.amazonaws.com' });
    expect(statementsOf(role)).toEqual([
      ...EXPECTED,
      {
        Sid: 'ReadConsoleToken',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: [{ Ref: consoleIds.tokenSecret }],
      },
    ]);
    expect(service.InstanceConfiguration).toEqual({
      Cpu: '0.25 vCPU',
      Memory: '0.5 GB',
      InstanceRoleArn: { 'Fn::GetAtt': [consoleIds.instanceRole, 'Arn'] },
    });
  });

  it('pulls the image berth builds, pinned by digest, with an access role limited to its repository', () => {
    const source = service.SourceConfiguration as Props;
    const repo = source.ImageRepository as Props;
    expect(repo.ImageIdentifier).toEqual({ Ref: consoleIds.imageParameter });
    expect(repo.ImageRepositoryType).toBe('ECR');
    expect(source.AutoDeploymentsEnabled).toBe(false);
    expect(compiled.parameters[consoleIds.imageParameter]?.AllowedPattern).toBe(PINNED_IMAGE_PATTERN);
    const access = compiled.resources[consoleIds.accessRole]!;
    expect(
      (access.Properties!.AssumeRolePolicyDocument as { Statement: { Principal: CfnValue }[] }).Statement[0]!
        .Principal,
    ).toEqual({ Service: 'build.apprunner.amazonaws.com' });
    expect(statementsOf(access)[0]!.Resource).toEqual([
      {
        'Fn::Sub':
          'arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/berth/shop-dev/console',
      },
    ]);
    // The repository lives in the images stack, deployed before the service stack.
    const images = compiled.imagesTemplate!;
    expect(images.Resources[CONSOLE_REPOSITORY_ID]?.Properties?.RepositoryName).toBe(
      'berth/shop-dev/console',
    );
  });

  it('passes the stack resources and the token as environment, and checks health on an unauthenticated path', () => {
    const config = (service.SourceConfiguration as Props).ImageRepository as Props;
    const image = config.ImageConfiguration as Props;
    expect(image.Port).toBe(String(CONSOLE_PORT));
    expect(image.RuntimeEnvironmentVariables).toEqual([
      { Name: CONSOLE_ENV.service, Value: 'shop' },
      { Name: CONSOLE_ENV.stage, Value: 'dev' },
      { Name: CONSOLE_ENV.region, Value: { Ref: 'AWS::Region' } },
      { Name: CONSOLE_ENV.runsTable, Value: { Ref: logicalIds.runsTable } },
      { Name: CONSOLE_ENV.launchQueueUrl, Value: { Ref: logicalIds.launchQueue } },
      { Name: CONSOLE_ENV.cluster, Value: { 'Fn::GetAtt': ['BerthCluster', 'Arn'] } },
    ]);
    expect(image.RuntimeEnvironmentSecrets).toEqual([
      { Name: CONSOLE_ENV.token, Value: { Ref: consoleIds.tokenSecret } },
    ]);
    expect(service.HealthCheckConfiguration).toMatchObject({ Protocol: 'HTTP', Path: CONSOLE_HEALTH_PATH });
    const secret = props(compiled, consoleIds.tokenSecret);
    // Unnamed: a removed stage's secret keeps its name for up to 30 days and would block a redeploy.
    expect(secret.Name).toBeUndefined();
    expect(compiled.outputs.BerthConsoleTokenSecretArn?.Value).toEqual({ Ref: consoleIds.tokenSecret });
    expect(secret.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
  });

  it('passes cfn-lint (service stack and images stack)', () => {
    expect(cfnLintTemplate(template, 'console-private')).toEqual({ status: 0, output: '' });
    expect(cfnLintTemplate(compiled.imagesTemplate!, 'console-images')).toEqual({ status: 0, output: '' });
  }, 120_000); // cfn-lint takes seconds per template, more on a busy machine
});

describe('console.appRunner options', () => {
  it('public: publicly accessible, no endpoint, the service URL as output', () => {
    const compiled = compile({ console: { appRunner: { access: 'public', image: PINNED } } });
    const service = props(compiled, consoleIds.service);
    expect((service.NetworkConfiguration as Props).IngressConfiguration).toEqual({
      IsPubliclyAccessible: true,
    });
    expect(compiled.resources[consoleIds.vpcEndpoint]).toBeUndefined();
    expect(compiled.resources[consoleIds.ingressConnection]).toBeUndefined();
    expect(compiled.outputs.BerthConsoleUrl?.Value).toEqual({
      'Fn::Sub': `https://\${${consoleIds.service}.ServiceUrl}`,
    });
    // A pinned image of your own: no parameter, no console repository, pull grant on that repository.
    expect(((service.SourceConfiguration as Props).ImageRepository as Props).ImageIdentifier).toBe(PINNED);
    expect(compiled.parameters[consoleIds.imageParameter]).toBeUndefined();
    expect(compiled.imagesTemplate).toBeUndefined();
    expect(statementsOf(compiled.resources[consoleIds.accessRole]!)[0]!.Resource).toEqual([
      'arn:aws:ecr:eu-west-1:123456789012:repository/tools/berth-console',
    ]);
    const { template } = synthesizeTemplate(compiled, ASSETS);
    expect(cfnLintTemplate(template, 'console-public')).toEqual({ status: 0, output: '' });
  }, 120_000); // cfn-lint takes seconds per template, more on a busy machine

  it('private in your own network: your VPC, subnets and security groups', () => {
    const compiled = compile({
      network: { subnets: ['subnet-0123456789abcdef0'], securityGroups: ['sg-0123456789abcdef0'] },
      console: {
        appRunner: {
          vpc: {
            id: 'vpc-0123456789abcdef0',
            subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
            securityGroups: ['sg-0123456789abcdef9'],
          },
          cpu: '1 vCPU',
          memory: '2 GB',
        },
      },
    });
    expect(compiled.resources[consoleIds.endpointSecurityGroup]).toBeUndefined();
    expect(props(compiled, consoleIds.vpcEndpoint)).toMatchObject({
      VpcId: 'vpc-0123456789abcdef0',
      SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      SecurityGroupIds: ['sg-0123456789abcdef9'],
    });
    expect(props(compiled, consoleIds.service).InstanceConfiguration).toMatchObject({
      Cpu: '1 vCPU',
      Memory: '2 GB',
    });
    const { template } = synthesizeTemplate(compiled, ASSETS);
    expect(cfnLintTemplate(template, 'console-own-vpc')).toEqual({ status: 0, output: '' });
  }, 120_000); // cfn-lint takes seconds per template, more on a busy machine

  it('keeps every App Runner name within its limit for the longest stage base', () => {
    const names = consoleNames(createNames('a-very-long-service-name', 'production-eu'));
    for (const n of [names.service, names.ingressConnection]) {
      expect(n.length).toBeLessThanOrEqual(APP_RUNNER_NAME_MAX);
      expect(n).toMatch(/^[A-Za-z0-9][A-Za-z0-9\-_]{3,39}$/);
    }
    expect(names.autoScaling).toMatch(/^[A-Za-z0-9][A-Za-z0-9\-_]{3,31}$/);
  });

  it('refuses a private console in your own network without its VPC, naming the field and the fix', () => {
    expect(() =>
      compile({
        network: { subnets: ['subnet-0123456789abcdef0'], securityGroups: ['sg-0123456789abcdef0'] },
        console: { appRunner: true },
      }),
    ).toThrow(
      /custom\.berth\.console\.appRunner\.vpc: a private console needs the VPC.*add vpc: \{ id, subnets, securityGroups \}/,
    );
  });

  it('refuses a berth-built console image with a non-ECR registry (App Runner pulls from ECR only)', () => {
    expect(() =>
      compile({ images: { registry: 'ghcr.io/acme/jobs' }, console: { appRunner: true } }),
    ).toThrow(CompileError);
  });

  it('rejects bad options with the field and the fix', () => {
    expect(() => compile({ console: { appRunner: { access: 'open' as 'public' } } })).toThrow(
      /custom\.berth\.console\.appRunner\.access: unknown access — use 'private' or 'public'/,
    );
    expect(() =>
      compile({ console: { appRunner: { image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/c:latest' } } }),
    ).toThrow(/custom\.berth\.console\.appRunner\.image: is not a digest-pinned ECR image/);
  });
});

describe('the JSON Schema Serverless checks custom.berth.console with', () => {
  it('mirrors the zod schema: keys, access, cpu and memory values', async () => {
    const { createRequire } = await import('node:module');
    const schema = createRequire(import.meta.url)('../../src/plugin/configSchema.cjs') as {
      properties: {
        console: {
          properties: {
            appRunner: { anyOf: [unknown, { properties: Record<string, { enum?: string[] }> }] };
          };
        };
      };
    };
    const json = schema.properties.console.properties.appRunner.anyOf[1].properties;
    const zod = appRunnerConfigSchema.shape;
    expect(Object.keys(json).sort()).toEqual(Object.keys(zod).sort());
    expect(json.access!.enum).toEqual(zod.access.unwrap().options);
    expect(json.cpu!.enum).toEqual(zod.cpu.unwrap().options);
    expect(json.memory!.enum).toEqual(zod.memory.unwrap().options);
  });
});

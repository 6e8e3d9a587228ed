/**
 * `custom.berth.console.appRunner`: the runs console as an App Runner service (docs/dashboard.md).
 *
 * - The image: berth's console entry (src/console/appRunner.ts) bundled on the Node base, pushed to the
 *   `<base>/console` repository of the images stack and pinned by digest in the parameter `BerthConsoleImage`
 *   at deploy; or `appRunner.image`, an image you pinned yourself.
 * - An instance role with exactly the console's grants (src/compiler/console.ts) and the read of its sign-in
 *   token; an access role that lets App Runner pull the image from ECR.
 * - Auto scaling to one instance at most (the console keeps no state a second instance would need, and one
 *   instance bounds the AWS reads an open page causes); an HTTP health check on `/healthz`.
 * - Access: private by default (an interface endpoint for `apprunner.requests` in the VPC and a VPC ingress
 *   connection; `IsPubliclyAccessible: false`), or public. Both ask for the console token, a generated
 *   Secrets Manager secret, before any page (src/console/auth.ts): never an open page.
 */
import type { Job } from '../core/model/job.js';
import { arn, type CfnValue, getAtt, type PolicyStatement, type Resources, ref, sub } from './cfn.js';
import type { AppRunnerConfig } from './config.js';
import { consoleStatements } from './console.js';
import type { CompileContext } from './context.js';
import { PINNED_IMAGE_PATTERN } from './ecr.js';
import { CompileError } from './errors.js';
import { ecrRepositoryArn } from './executionRole.js';
import { logicalIds, type Names, truncate } from './naming.js';

/** App Runner: service and VPC ingress connection names are 4–40 characters, auto scaling names 4–32. */
export const APP_RUNNER_NAME_MAX = 40;
export const AUTO_SCALING_NAME_MAX = 32;
/** The port the console listens on in the container (App Runner's default, 8080). */
export const CONSOLE_PORT = 8080;
/** Unauthenticated: App Runner's health check. Answers `ok` and nothing else. */
export const CONSOLE_HEALTH_PATH = '/healthz';

export const consoleIds = {
  service: 'BerthConsoleService',
  instanceRole: 'BerthConsoleInstanceRole',
  accessRole: 'BerthConsoleAccessRole',
  autoScaling: 'BerthConsoleAutoScaling',
  tokenSecret: 'BerthConsoleTokenSecret',
  endpointSecurityGroup: 'BerthConsoleEndpointSecurityGroup',
  vpcEndpoint: 'BerthConsoleVpcEndpoint',
  ingressConnection: 'BerthConsoleVpcIngressConnection',
  imageParameter: 'BerthConsoleImage',
} as const;

/** The environment the console entry reads (src/console/appRunner.ts). */
export const CONSOLE_ENV = {
  service: 'BERTH_SERVICE',
  stage: 'BERTH_STAGE',
  region: 'BERTH_REGION',
  token: 'BERTH_CONSOLE_TOKEN',
  runsTable: 'BERTH_RUNS_TABLE',
  launchQueueUrl: 'BERTH_LAUNCH_QUEUE_URL',
  cluster: 'BERTH_CLUSTER',
} as const;

/** `custom.berth.console.appRunner`, resolved: undefined when off. */
export function appRunnerConfig(ctx: CompileContext): AppRunnerConfig | undefined {
  return ctx.config.console.appRunner;
}

/** The images-stack repository of the console image berth builds. */
export function consoleRepositoryName(names: Names): string {
  return `berth/${names.base}/console`;
}

/** Tag prefix of the console images (`console-<content hash>`). */
export const CONSOLE_IMAGE_NAME = 'console';

/** Physical names: `<base>-console`, within App Runner's limits. */
export function consoleNames(names: Names) {
  const name = truncate(`${names.base}-console`, APP_RUNNER_NAME_MAX);
  return {
    service: name,
    ingressConnection: name,
    autoScaling: truncate(`${names.base}-console`, AUTO_SCALING_NAME_MAX),
    instanceRole: truncate(`${names.prefix}console`, 64),
    accessRole: truncate(`${names.prefix}console-pull`, 64),
  };
}

/** Whether berth builds the console image (no `appRunner.image`). */
export function buildsConsoleImage(ctx: CompileContext): boolean {
  const config = appRunnerConfig(ctx);
  return config !== undefined && config.image === undefined;
}

export function consoleInstanceStatements(ctx: CompileContext, jobs: readonly Job[]): PolicyStatement[] {
  return [
    ...consoleStatements(ctx, jobs),
    {
      // App Runner reads RuntimeEnvironmentSecrets with the instance role.
      Sid: 'ReadConsoleToken',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [ref(consoleIds.tokenSecret)],
    },
  ];
}

function role(name: string, principal: string, policy: string, statements: PolicyStatement[]) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: name,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: principal }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: policy,
          PolicyDocument: { Version: '2012-10-17', Statement: statements as unknown as CfnValue[] },
        },
      ],
    },
  };
}

export interface CompiledConsole {
  resources: Resources;
  outputs: Record<string, { Description: string; Value: CfnValue }>;
  parameters: Record<
    string,
    { Type: 'String'; Description: string; AllowedPattern: string; ConstraintDescription: string }
  >;
}

export function compileConsoleAppRunner(ctx: CompileContext, jobs: readonly Job[]): CompiledConsole {
  const config = appRunnerConfig(ctx);
  if (!config) return { resources: {}, outputs: {}, parameters: {} };
  const names = consoleNames(ctx.names);
  if (config.image === undefined && ctx.config.images.registry)
    throw new CompileError(
      'custom.berth.console.appRunner: App Runner pulls images only from ECR, and images.registry sends the images berth builds elsewhere — set console.appRunner.image to a digest-pinned ECR image, or remove images.registry',
    );
  const network = ctx.config.network;
  if (config.access === 'private' && network !== 'create' && !config.vpc)
    throw new CompileError(
      'custom.berth.console.appRunner.vpc: a private console needs the VPC it is reached from — add vpc: { id, subnets, securityGroups }, or access: public',
    );

  const image: CfnValue = config.image ?? ref(consoleIds.imageParameter);
  const parameters: CompiledConsole['parameters'] = config.image
    ? {}
    : {
        [consoleIds.imageParameter]: {
          Type: 'String',
          Description:
            'Image of the runs console, built by berth and pinned by digest (berth deploy fills it in)',
          AllowedPattern: PINNED_IMAGE_PATTERN,
          ConstraintDescription: 'must be pinned by digest: <registry>/<repository>@sha256:<64 hex>',
        },
      };
  const repository: CfnValue = config.image
    ? (ecrRepositoryArn(config.image) as string)
    : arn('ecr', `repository/${consoleRepositoryName(ctx.names)}`);

  const resources: Resources = {
    [consoleIds.tokenSecret]: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        // No Name: a deleted secret keeps its name for its recovery window (7–30 days), so a named one would
        // fail the next deploy of a removed stage. The output BerthConsoleTokenSecretArn names it.
        Description: `Sign-in token of the berth console of ${ctx.names.service} (${ctx.names.stage}) on App Runner`,
        // 48 characters of [A-Za-z0-9]: about 285 bits.
        GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false },
      },
    },
    [consoleIds.instanceRole]: role(
      names.instanceRole,
      'tasks.apprunner.amazonaws.com',
      'console',
      consoleInstanceStatements(ctx, jobs),
    ),
    [consoleIds.accessRole]: role(names.accessRole, 'build.apprunner.amazonaws.com', 'pull-console-image', [
      {
        Sid: 'PullConsoleImage',
        Effect: 'Allow',
        Action: [
          'ecr:BatchGetImage',
          'ecr:GetDownloadUrlForLayer',
          'ecr:BatchCheckLayerAvailability',
          'ecr:DescribeImages',
        ],
        Resource: [repository],
      },
      {
        // ecr:GetAuthorizationToken has no resource type: AWS requires Resource "*".
        Sid: 'EcrLogin',
        Effect: 'Allow',
        Action: ['ecr:GetAuthorizationToken'],
        Resource: ['*'],
      },
    ]),
    [consoleIds.autoScaling]: {
      Type: 'AWS::AppRunner::AutoScalingConfiguration',
      Properties: {
        AutoScalingConfigurationName: names.autoScaling,
        MinSize: 1,
        MaxSize: 1,
        MaxConcurrency: 100,
      },
    },
    [consoleIds.service]: {
      Type: 'AWS::AppRunner::Service',
      Properties: {
        ServiceName: names.service,
        SourceConfiguration: {
          AuthenticationConfiguration: { AccessRoleArn: getAtt(consoleIds.accessRole, 'Arn') },
          AutoDeploymentsEnabled: false,
          ImageRepository: {
            ImageIdentifier: image,
            ImageRepositoryType: 'ECR',
            ImageConfiguration: {
              Port: String(CONSOLE_PORT),
              RuntimeEnvironmentVariables: [
                { Name: CONSOLE_ENV.service, Value: ctx.names.service },
                { Name: CONSOLE_ENV.stage, Value: ctx.names.stage },
                { Name: CONSOLE_ENV.region, Value: ref('AWS::Region') },
                { Name: CONSOLE_ENV.runsTable, Value: ref(logicalIds.runsTable) },
                { Name: CONSOLE_ENV.launchQueueUrl, Value: ctx.launchQueueUrl },
                { Name: CONSOLE_ENV.cluster, Value: ctx.clusterArn },
              ],
              RuntimeEnvironmentSecrets: [{ Name: CONSOLE_ENV.token, Value: ref(consoleIds.tokenSecret) }],
            },
          },
        },
        InstanceConfiguration: {
          Cpu: config.cpu,
          Memory: config.memory,
          InstanceRoleArn: getAtt(consoleIds.instanceRole, 'Arn'),
        },
        HealthCheckConfiguration: {
          Protocol: 'HTTP',
          Path: CONSOLE_HEALTH_PATH,
          Interval: 10,
          Timeout: 5,
          HealthyThreshold: 1,
          UnhealthyThreshold: 5,
        },
        AutoScalingConfigurationArn: getAtt(consoleIds.autoScaling, 'AutoScalingConfigurationArn'),
        NetworkConfiguration: {
          IngressConfiguration: { IsPubliclyAccessible: config.access === 'public' },
          EgressConfiguration: { EgressType: 'DEFAULT' },
        },
      },
    },
  };

  const outputs: CompiledConsole['outputs'] = {
    BerthConsoleTokenSecretArn: {
      Description:
        'Secret holding the console sign-in token (aws secretsmanager get-secret-value --secret-id …)',
      Value: ref(consoleIds.tokenSecret),
    },
  };

  if (config.access === 'public') {
    outputs.BerthConsoleUrl = {
      Description: 'The runs console (sign in with the token in BerthConsoleTokenSecretArn)',
      Value: sub(`https://\${${consoleIds.service}.ServiceUrl}`),
    };
    return { resources, outputs, parameters };
  }

  // Private: an interface endpoint for App Runner requests in the VPC, and the ingress connection to it.
  let vpcId: CfnValue;
  let subnets: CfnValue[];
  let securityGroups: CfnValue[];
  if (config.vpc) {
    vpcId = config.vpc.id;
    subnets = config.vpc.subnets;
    securityGroups = config.vpc.securityGroups;
  } else {
    vpcId = ref(logicalIds.vpc);
    subnets = [ref(logicalIds.subnet(0)), ref(logicalIds.subnet(1))];
    securityGroups = [getAtt(consoleIds.endpointSecurityGroup, 'GroupId')];
    resources[consoleIds.endpointSecurityGroup] = {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: `berth ${ctx.names.base} console endpoint: HTTPS from inside the VPC only`,
        VpcId: vpcId,
        SecurityGroupIngress: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            CidrIp: getAtt(logicalIds.vpc, 'CidrBlock'),
            Description: 'HTTPS from the VPC',
          },
        ],
        Tags: [{ Key: 'Name', Value: `${ctx.names.base}-console` }],
      },
    };
  }
  resources[consoleIds.vpcEndpoint] = {
    Type: 'AWS::EC2::VPCEndpoint',
    Properties: {
      VpcEndpointType: 'Interface',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
      ServiceName: sub('com.amazonaws.${AWS::Region}.apprunner.requests'),
      VpcId: vpcId,
      SubnetIds: subnets,
      SecurityGroupIds: securityGroups,
    },
  };
  resources[consoleIds.ingressConnection] = {
    Type: 'AWS::AppRunner::VpcIngressConnection',
    Properties: {
      VpcIngressConnectionName: names.ingressConnection,
      ServiceArn: getAtt(consoleIds.service, 'ServiceArn'),
      IngressVpcConfiguration: { VpcId: vpcId, VpcEndpointId: ref(consoleIds.vpcEndpoint) },
    },
  };
  outputs.BerthConsoleUrl = {
    Description:
      'The runs console, reachable from inside the VPC (sign in with the token in BerthConsoleTokenSecretArn)',
    Value: sub(`https://\${${consoleIds.ingressConnection}.DomainName}`),
  };
  return { resources, outputs, parameters };
}

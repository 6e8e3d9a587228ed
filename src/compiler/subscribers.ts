/**
 * `subscribers/*.ts` → per subscriber: a Lambda (bundled from the file, see subscriberBundle.ts), its own role
 * (its log group, plus the statements it declares), an EventBridge rule and the permission for EventBridge to
 * invoke it.
 * - `defineSubscriber`: the rule is on berth's bus with `subscriberPattern(sub)`.
 * - `defineTaskStoppedSubscriber`: the rule is on the account's default bus (AWS service events only go
 *   there) with `taskStoppedPattern`, narrowed to this stage's task definitions (or the listed jobs').
 */
import { formatJobIssue } from '../core/errors.js';
import type { Job } from '../core/model/job.js';
import {
  isTaskStoppedSubscriber,
  type LoadedSubscriber,
  type SubscriberPermission,
  subscriberPattern,
  taskStoppedPattern,
} from '../subscriber/index.js';
import { permissionProblems } from '../subscriber/permissions.js';
import { arn, type CfnValue, getAtt, type PolicyStatement, type Resources, ref, sub } from './cfn.js';
import { subscriberJobsIssue } from './checks.js';
import type { CompileContext } from './context.js';
import { CompileError } from './errors.js';
import type { FunctionSpec } from './functions.js';
import { logicalIds } from './naming.js';

/** Subscribers do little per event; a slow one is better off putting work on a queue. */
export const SUBSCRIBER_TIMEOUT_SECONDS = 30;
export const SUBSCRIBER_MEMORY_MB = 256;

export interface CompiledSubscribers {
  resources: Resources;
  functions: FunctionSpec[];
}

export function subscriberFunctionSpec(loaded: LoadedSubscriber, ctx: CompileContext): FunctionSpec {
  const kind = logicalIds.subscriberKind(loaded.name);
  return {
    kind,
    key: logicalIds.functionKey(kind),
    name: ctx.names.subscriberFunction(loaded.name),
    handler: `${kind}.handler`,
    entry: loaded.file,
    timeout: SUBSCRIBER_TIMEOUT_SECONDS,
    memorySize: SUBSCRIBER_MEMORY_MB,
    // Like berth's own Lambdas: the map ships (and Node reads it) only with `custom.berth.sourceMaps`.
    environment: ctx.config.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {},
    roleLogicalId: logicalIds.lambdaRole(kind),
    subscriber: { file: loaded.file, raw: isTaskStoppedSubscriber(loaded.subscriber) },
  };
}

function declared(permissions: readonly SubscriberPermission[] | undefined): PolicyStatement[] {
  return (permissions ?? []).map((p) => ({
    Effect: p.effect ?? 'Allow',
    Action: [...p.actions],
    Resource: [...p.resources],
    ...(p.conditions ? { Condition: p.conditions as Record<string, Record<string, CfnValue>> } : {}),
  }));
}

export function subscriberStatements(loaded: LoadedSubscriber): PolicyStatement[] {
  const kind = logicalIds.subscriberKind(loaded.name);
  return [
    {
      Sid: 'OwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [sub(`\${${logicalIds.functionLogGroup(kind)}.Arn}`)],
    },
    ...declared(loaded.subscriber.options.permissions),
  ];
}

/** The rule's event pattern: outcome events on berth's bus, or ECS task state changes on the default bus. */
export function subscriberRulePattern(
  loaded: LoadedSubscriber,
  ctx: CompileContext,
): Record<string, unknown> {
  const s = loaded.subscriber;
  if (!isTaskStoppedSubscriber(s)) return subscriberPattern(s);
  const families = s.options.jobs?.map((job) => `${ctx.names.taskFamily(job)}:`) ?? [ctx.names.prefix];
  return taskStoppedPattern(ctx.clusterArn, {
    stoppedOnly: !s.options.allStates,
    taskDefinitionPrefixes: families.map((f) => arn('ecs', `task-definition/${f}`)),
  });
}

function checkJobs(loaded: LoadedSubscriber, jobs: readonly Job[]): void {
  const issue = subscriberJobsIssue(loaded, jobs);
  if (issue) throw new CompileError(formatJobIssue(issue));
  // The loader checks these too; a subscriber handed to the compiler another way is checked here.
  const problems = permissionProblems(loaded.subscriber.options.permissions);
  if (problems.length) throw new CompileError(problems.map((p) => `${loaded.file}: ${p}`).join('\n'));
}

export function compileSubscriber(
  loaded: LoadedSubscriber,
  jobs: readonly Job[],
  ctx: CompileContext,
): CompiledSubscribers {
  checkJobs(loaded, jobs);
  const spec = subscriberFunctionSpec(loaded, ctx);
  const raw = isTaskStoppedSubscriber(loaded.subscriber);
  const ruleId = logicalIds.subscriberRule(loaded.name);
  const fnId = logicalIds.function(spec.kind);
  const resources: Resources = {
    [spec.roleLogicalId]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: ctx.names.subscriberRole(loaded.name),
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        Policies: [
          {
            PolicyName: 'subscriber',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: subscriberStatements(loaded) as unknown as CfnValue[],
            },
          },
        ],
      },
    },
    [ruleId]: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: ctx.names.subscriberRule(loaded.name),
        Description:
          `berth: ${raw ? 'ECS task state changes' : 'outcome events'} → subscriber ${loaded.name} (${loaded.file})`.slice(
            0,
            512,
          ),
        // No EventBusName: the default bus, where ECS publishes.
        ...(raw ? {} : { EventBusName: ref(logicalIds.eventBus) }),
        State: 'ENABLED',
        EventPattern: subscriberRulePattern(loaded, ctx) as CfnValue,
        Targets: [
          {
            Id: 'subscriber',
            Arn: getAtt(fnId, 'Arn'),
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          },
        ],
      },
    },
    [logicalIds.subscriberPermission(loaded.name)]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(fnId),
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt(ruleId, 'Arn'),
      },
    },
  };
  return { resources, functions: [spec] };
}

export function compileSubscribers(
  subscribers: readonly LoadedSubscriber[],
  jobs: readonly Job[],
  ctx: CompileContext,
): CompiledSubscribers {
  const out: CompiledSubscribers = { resources: {}, functions: [] };
  for (const loaded of subscribers) {
    const one = compileSubscriber(loaded, jobs, ctx);
    Object.assign(out.resources, one.resources);
    out.functions.push(...one.functions);
  }
  return out;
}

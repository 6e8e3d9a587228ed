/**
 * Subscriptions end to end, offline: the fixture `test/fixtures/services/notify` (a job with `notify`, an
 * outcome subscriber and a raw task-stopped subscriber) through the real `serverless package` and through
 * `berth synth`, both cfn-lint clean; and a notify rule built by the compiler's pattern and transformer
 * delivering a PutEvents `Job Run Failed` on a bus in moto, to an SQS queue standing in for the topic (moto
 * has no SNS-to-email, and an SQS target shows the exact transformed message).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Template } from '../../src/compiler/cfn.js';
import { NOTIFY_INPUT_TRANSFORMER, notifyPattern } from '../../src/compiler/notify.js';
import { EVENT_SOURCE } from '../../src/core/lifecycle/events.js';
import { cfnLint } from '../helpers/cfnLint.js';
import { type MotoServer, startMoto } from '../runtime/aws/motoServer.js';
import { ROOT, serverlessPackage, tmpDir } from './helpers.js';

const FIXTURE = join(ROOT, 'test/fixtures/services/notify');

const SUBSCRIBER_IDS = [
  'BerthSubscriberPageOnFailureLambdaFunction',
  'BerthSubscriberPageOnFailureLogGroup',
  'BerthSubscriberPageOnFailureRole',
  'BerthSubscriberPageOnFailureRule',
  'BerthSubscriberPageOnFailurePermission',
  'BerthSubscriberAuditStopsLambdaFunction',
  'BerthSubscriberAuditStopsRule',
  'BerthJobNightlyNotifyTopic',
  'BerthJobNightlyNotifyTopicPolicy',
  'BerthJobNightlyNotifyRule',
];

function expectSubscriptions(t: Template): void {
  for (const id of SUBSCRIBER_IDS) expect(t.Resources[id], id).toBeDefined();
  const fn = t.Resources.BerthSubscriberPageOnFailureLambdaFunction!.Properties!;
  expect(fn).toMatchObject({
    Runtime: 'nodejs22.x',
    Handler: 'subscriberPageOnFailure.handler',
    FunctionName: 'berth-notify-test-sub-page-on-failure',
    Role: { 'Fn::GetAtt': ['BerthSubscriberPageOnFailureRole', 'Arn'] },
  });
  expect(JSON.stringify((fn.Code as { S3Key: unknown }).S3Key)).toMatch(
    /subscriberPageOnFailure-[0-9a-f]{12}\.zip/,
  );
  expect(t.Resources.BerthSubscriberPageOnFailureRule!.Properties!.EventBusName).toEqual({
    Ref: 'BerthEventBus',
  });
  expect(t.Resources.BerthSubscriberAuditStopsRule!.Properties!.EventBusName).toBeUndefined();
  const targets = t.Resources.BerthJobNightlyNotifyRule!.Properties!.Targets as { Arn: unknown }[];
  expect(targets.map((x) => x.Arn)).toEqual([
    { Ref: 'BerthJobNightlyNotifyTopic' },
    'arn:aws:sns:us-east-1:123456789012:ops-alerts',
  ]);
  // Nothing publishes to SNS from code any more.
  expect(JSON.stringify(t.Resources.BerthInterceptorRole)).not.toContain('sns:Publish');
}

describe('subscriptions through serverless package and berth synth', () => {
  it('packages the fixture: subscriber Lambdas as functions, rules, notify; cfn-lint clean', async () => {
    const { update, log } = await serverlessPackage(FIXTURE);
    expect(log).toMatch(/berth: 1 job → \d+ resources/);
    const lint = cfnLint(join(FIXTURE, '.serverless/cloudformation-template-update-stack.json'));
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
    expectSubscriptions(update);
  }, 180_000);

  it('berth synth writes the same subscriptions and the subscriber zips; cfn-lint clean', () => {
    const dir = tmpDir('synth-notify');
    const out = join(dir, 'template.json');
    execFileSync(
      'node',
      [join(ROOT, 'bin/berth.js'), '--cwd', FIXTURE, 'synth', '--stage', 'test', '--out', out],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
    const lint = cfnLint(out);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
    const template = JSON.parse(readFileSync(out, 'utf8')) as Template;
    expectSubscriptions(template);
    expect(
      readdirSync(join(dir, 'berth-assets'))
        .filter((f) => f.endsWith('.zip'))
        .map((f) => f.replace(/-[0-9a-f]{12}\.zip$/, ''))
        .sort(),
    ).toEqual(['interceptor', 'launcher', 'subscriberAuditStops', 'subscriberPageOnFailure', 'sweeper']);
  }, 120_000);
});

describe('a notify rule on moto EventBridge', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('delivers a Job Run Failed of the job, through the transformer, and not other jobs or types', async () => {
    const config = {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    const events = new EventBridgeClient(config);
    const sqs = new SQSClient(config);
    await events.send(new CreateEventBusCommand({ Name: 'berth-notify-test' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'topic-stand-in' }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await events.send(
      new PutRuleCommand({
        Name: 'nightly-notify',
        EventBusName: 'berth-notify-test',
        EventPattern: JSON.stringify(notifyPattern('nightly', ['failed', 'timed_out'])),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: 'nightly-notify',
        EventBusName: 'berth-notify-test',
        Targets: [
          {
            Id: 'topic0',
            Arn: Attributes!.QueueArn!,
            // moto json-parses every InputTemplate, while AWS also takes plain text (berth's template): the
            // same template as a JSON string literal is the closest moto can run.
            InputTransformer: {
              InputPathsMap: { ...NOTIFY_INPUT_TRANSFORMER.InputPathsMap },
              InputTemplate: JSON.stringify(NOTIFY_INPUT_TRANSFORMER.InputTemplate),
            },
          },
        ],
      }),
    );
    const detail = (job: string, runId: string) =>
      JSON.stringify({
        job,
        runId,
        status: 'failed',
        outcome: 'app_error',
        exitCode: 1,
        reason: 'Essential container exited',
      });
    const put = (type: string, job: string, runId: string) => ({
      EventBusName: 'berth-notify-test',
      Source: EVENT_SOURCE,
      DetailType: type,
      Detail: detail(job, runId),
    });
    const sent = await events.send(
      new PutEventsCommand({
        Entries: [
          put('Job Run Succeeded', 'nightly', 'r1'),
          put('Job Run Failed', 'other', 'r2'),
          put('Job Run Failed', 'nightly', 'r3'),
        ],
      }),
    );
    expect(sent.FailedEntryCount).toBe(0);
    const bodies: string[] = [];
    for (let i = 0; i < 5 && bodies.length < 1; i++) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      bodies.push(...(got.Messages ?? []).map((m) => m.Body ?? ''));
    }
    const more = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    bodies.push(...(more.Messages ?? []).map((m) => m.Body ?? ''));
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).toBe(
      'berth: job nightly run r3 failed (app_error, exit 1): Essential container exited',
    );
  }, 60_000);
});

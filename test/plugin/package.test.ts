/**
 * The real `serverless package` (osls) with berth's plugin, offline: the example service at the repository
 * root, a fixture with one job of each kind, and a generated 120-job service. Every template must pass
 * cfn-lint cleanly (`pip install cfn-lint`).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Template } from '../../src/compiler/cfn.js';
import { cfnLint } from '../helpers/cfnLint.js';
import { ROOT, serverlessPackage, tmpDir, writeGeneratedService } from './helpers.js';

const types = (t: Template) => Object.values(t.Resources).map((r) => r.Type);

describe('serverless package', () => {
  it('packages the example service into a template cfn-lint accepts', async () => {
    const { update, log } = await serverlessPackage(ROOT);
    expect(log).toMatch(/berth: 4 jobs → \d+ resources/);
    const lint = cfnLint(join(ROOT, '.serverless/cloudformation-template-update-stack.json'));
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
    for (const id of [
      'BerthJobThumbnailTaskDefinition',
      'BerthJobThumbnailS3Rule0',
      'BerthJobNightlyReportSchedule0',
      'BerthJobOrderWorkerQueue',
      'BerthJobOrderWorkerQueueMapping',
      'BerthTaskStoppedRule',
      'BerthRunsTable',
      'BerthVpc',
    ]) {
      expect(update.Resources[id], id).toBeDefined();
    }
    const launcher = update.Resources.BerthLauncherLambdaFunction!.Properties!;
    expect(launcher).toMatchObject({
      Runtime: 'nodejs22.x',
      Handler: 'launcher.handler',
      FunctionName: 'berth-example-dev-berth-launcher',
    });
    expect(launcher.Role).toEqual({ 'Fn::GetAtt': ['BerthLauncherRole', 'Arn'] });
    expect(JSON.stringify((launcher.Code as { S3Key: unknown }).S3Key)).toMatch(/launcher-[0-9a-f]{12}\.zip/);
    expect(update.Resources.IamRoleLambdaExecution).toBeUndefined();
    // The example jobs build their images: one digest-only parameter each, and the repositories' own stack.
    expect(update.Parameters?.BerthJobThumbnailImage?.AllowedPattern).toBe('^[^@\\s]+@sha256:[0-9a-f]{64}$');
    const images = join(ROOT, '.serverless/berth-images.json');
    const imagesLint = cfnLint(images);
    expect(imagesLint.output).toBe('');
    const imagesTemplate = JSON.parse(readFileSync(images, 'utf8')) as Template;
    expect(imagesTemplate.Resources.BerthImagesRepository!.Properties!.RepositoryName).toBe(
      'berth/berth-example-dev',
    );
  }, 180_000);

  it('packages one job of each kind, enabling EventBridge on the bucket the stack owns', async () => {
    const dir = join(ROOT, 'test/fixtures/services/kinds');
    const { update } = await serverlessPackage(dir);
    const lint = cfnLint(join(dir, '.serverless/cloudformation-template-update-stack.json'));
    expect(lint.output).toBe('');
    expect(update.Resources.IncomingBucket!.Properties!.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    expect(update.Resources.BerthVpc).toBeUndefined();
    expect(update.Resources.BerthJobWorkerQueue!.Properties).toMatchObject({
      FifoQueue: true,
      QueueName: 'berth-kinds-test__worker.fifo',
    });
    expect(update.Resources.BerthJobLegacyQueue).toBeUndefined();
    expect(update.Resources.BerthJobLegacyQueueMapping!.Properties!.EventSourceArn).toBe(
      'arn:aws:sqs:eu-west-1:123456789012:legacy-orders',
    );
    expect(update.Resources.BerthJobReportSchedule1).toBeDefined();
    expect(update.Resources.BerthJobReportNotifyTopic!.Type).toBe('AWS::SNS::Topic');
    expect(update.Resources.BerthJobIngestTaskRole).toBeDefined();
    expect(update.Resources.BerthJobIngestLogGroup!.Properties!.RetentionInDays).toBe(90);
    expect(update.Resources.BerthLauncherLaunchQueueMapping!.Properties!.ScalingConfig).toEqual({
      MaximumConcurrency: 4,
    });
  }, 180_000);

  it('packages 120 jobs into one valid template under 500 resources and 1 MB', async () => {
    const dir = tmpDir('many');
    writeGeneratedService(dir, 120);
    const { update, log } = await serverlessPackage(dir);
    const total = Object.keys(update.Resources).length;
    expect(total).toBeLessThanOrEqual(500);
    expect(statSync(join(dir, '.serverless/cloudformation-template-update-stack.json')).size).toBeLessThan(
      1_000_000,
    );
    expect(log).toContain(`berth: 120 jobs → ${total} resources`);
    expect(types(update).filter((t) => t === 'AWS::ECS::TaskDefinition')).toHaveLength(120);
    const lint = cfnLint(join(dir, '.serverless/cloudformation-template-update-stack.json'));
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  }, 240_000);

  it('berth synth writes the same stack without Serverless, and cfn-lint accepts it', () => {
    const dir = tmpDir('synth');
    const out = join(dir, 'template.json');
    execFileSync('node', [join(ROOT, 'bin/berth.js'), 'synth', '--out', out], { cwd: ROOT, stdio: 'pipe' });
    const lint = cfnLint(out);
    expect(lint.output).toBe('');
    const listed = readdirSync(join(dir, 'berth-assets')).sort();
    expect(listed.map((f) => f.replace(/-[0-9a-f]{12}\.zip$/, ''))).toEqual([
      'interceptor',
      'launcher',
      'subscriberNotifyOnFailure', // subscribers/notify-on-failure.ts
      'sweeper',
    ]);
    const images = join(dir, 'images.json');
    execFileSync('node', [join(ROOT, 'bin/berth.js'), 'synth', '--images', '--out', images], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    expect(cfnLint(images).output).toBe('');
    const repo = (JSON.parse(readFileSync(images, 'utf8')) as Template).Resources.BerthImagesRepository!;
    expect(repo.DeletionPolicy).toBe('Retain');
  }, 120_000);
});

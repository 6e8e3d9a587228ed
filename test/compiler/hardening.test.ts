// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are expected values here
/**
 * Issue 12, least privilege finished: task roles read their own trigger prefix (the one the launcher writes
 * to), kms:Decrypt for a customer key, a TLS-only payload bucket, retained run history and job logs, tasks
 * cut off from the EC2 instance role, the launcher's queue grant scoped to the queues it reads.
 */
import { describe, expect, it } from 'vitest';
import type { CfnValue, PolicyStatement } from '../../src/compiler/cfn.js';
import { compileService } from '../../src/compiler/compile.js';
import { ec2LogicalIds } from '../../src/compiler/ec2Capacity.js';
import { launcherQueueStatements, MAX_LISTED_QUEUES } from '../../src/compiler/iam.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { validateJob } from '../../src/core/model/validate.js';
import { triggerPayloadKey, triggerPayloadPrefix } from '../../src/runtime/aws/payloadKeys.js';
import { s3PayloadStore } from '../../src/runtime/aws/payloadStore.js';
import { cfnLintTemplate } from '../helpers/cfnLint.js';
import { context, IMAGE, job } from './helpers.js';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
const ASSETS = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };

const compiled = compileService({
  service: 'shop',
  stage: 'dev',
  config: { capacity: { ec2: { instanceTypes: ['m7g.large'], architecture: 'arm64', maxSize: 2 } } },
  jobs: [
    job({ name: 'report', task: { image: IMAGE, secrets: { DB: SECRET }, secretsKmsKeyArn: KEY } }),
    job({ name: 'orders', trigger: { queue: {} } }),
    job({ name: 'mailer', trigger: { queue: { mode: 'service' } } }),
  ],
});

function policy(id: string): PolicyStatement[] {
  const policies = compiled.resources[id]!.Properties!.Policies as unknown as {
    PolicyDocument: { Statement: PolicyStatement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

describe('task roles and trigger payloads', () => {
  it('the launcher writes a by-reference trigger under exactly the prefix the job task role may read', async () => {
    const puts: { Bucket?: string; Key?: string }[] = [];
    const s3 = { send: async (c: { input: { Bucket?: string; Key?: string } }) => void puts.push(c.input) };
    const store = s3PayloadStore(s3 as never, 'payload-bucket');
    const ref = await store('r123', '{"kind":"manual"}', 'orders');
    expect(ref).toBe(`s3://payload-bucket/${triggerPayloadKey('orders', 'r123')}`);
    expect(puts[0]?.Key).toBe('triggers/orders/r123.json');
    const grant = policy('BerthJobOrdersTaskRole').find((s) => s.Sid === 'ReadOwnTriggerPayloads');
    expect(grant?.Action).toEqual(['s3:GetObject']);
    const resource = (grant!.Resource[0] as { 'Fn::Sub': string })['Fn::Sub'];
    expect(resource).toBe(`\${BerthPayloadBucket.Arn}/${triggerPayloadPrefix('orders')}*`);
    // The key the launcher wrote matches the granted pattern; another job's key does not.
    const pattern = new RegExp(`^${triggerPayloadPrefix('orders')}[^]*$`);
    expect(pattern.test(puts[0]!.Key!)).toBe(true);
    expect(pattern.test(triggerPayloadKey('report', 'r123'))).toBe(false);
  });

  it('a service-mode worker (no triggers handed to it) gets no payload read', () => {
    expect(policy('BerthJobMailerTaskRole').map((s) => s.Sid)).toEqual(['WorkerQueue']);
  });
});

describe('secrets under a customer managed KMS key', () => {
  it('grants kms:Decrypt on the named key, only through Secrets Manager', () => {
    const decrypt = policy('BerthExecutionRole').find((s) => s.Sid === 'DecryptJobSecrets');
    expect(decrypt).toEqual({
      Sid: 'DecryptJobSecrets',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: [KEY],
      Condition: {
        StringEquals: { 'kms:ViaService': [{ 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' }] },
      },
    });
  });

  it('no key named, no kms grant', () => {
    const plain = compileService({
      service: 's',
      stage: 'dev',
      jobs: [job({ name: 'a', task: { image: IMAGE, secrets: { DB: SECRET } } })],
    });
    const statements = (
      plain.resources.BerthExecutionRole!.Properties!.Policies as unknown as {
        PolicyDocument: { Statement: PolicyStatement[] };
      }[]
    )[0]!.PolicyDocument.Statement;
    expect(statements.flatMap((s) => s.Action)).not.toContain('kms:Decrypt');
  });

  it('rejects an alias or a key without secrets, naming the field and the fix', () => {
    const alias = validateJob(
      { name: 'a', task: { image: IMAGE, secrets: { DB: SECRET }, secretsKmsKeyArn: 'alias/mine' } },
      'jobs/a.ts',
    );
    expect(alias.ok).toBe(false);
    expect(JSON.stringify(!alias.ok && alias.issues)).toMatch(/secretsKmsKeyArn.*is not a KMS key ARN/);
    const noSecrets = validateJob({ name: 'a', task: { image: IMAGE, secretsKmsKeyArn: KEY } }, 'jobs/a.ts');
    expect(JSON.stringify(!noSecrets.ok && noSecrets.issues)).toMatch(
      /"path":"task.secretsKmsKeyArn","problem":"names a KMS key for secrets but the job has no secrets","fix":"add task.secrets/,
    );
  });
});

describe('data and network guards', () => {
  it('the payload bucket refuses requests without TLS', () => {
    const p = compiled.resources.BerthPayloadBucketPolicy!;
    expect(p.Type).toBe('AWS::S3::BucketPolicy');
    expect(p.Properties!.Bucket).toEqual({ Ref: 'BerthPayloadBucket' });
    const [deny] = (p.Properties!.PolicyDocument as { Statement: Record<string, CfnValue>[] }).Statement;
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(deny!.Resource).toEqual([
      { 'Fn::GetAtt': ['BerthPayloadBucket', 'Arn'] },
      { 'Fn::Sub': '${BerthPayloadBucket.Arn}/*' },
    ]);
  });

  it('the runs table and the job log groups are kept on stack deletion and replacement', () => {
    const withOwnGroup = compileService({
      service: 's',
      stage: 'dev',
      jobs: [job({ name: 'a', task: { image: IMAGE, logRetentionDays: 365 } })],
    });
    for (const id of ['BerthRunsTable', 'BerthJobsLogGroup'])
      expect(compiled.resources[id]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    const own = Object.values(withOwnGroup.resources).filter(
      (r) => r.Type === 'AWS::Logs::LogGroup' && !JSON.stringify(r.Properties).includes('/aws/lambda/'),
    );
    expect(own.length).toBe(2);
    for (const r of own) expect(r).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('EC2 capacity: IMDSv2 only with hop limit 1, and tasks blocked from instance metadata', () => {
    const data = compiled.resources[ec2LogicalIds.launchTemplate]!.Properties!.LaunchTemplateData as Record<
      string,
      CfnValue
    >;
    expect(data.MetadataOptions).toEqual({
      HttpTokens: 'required',
      HttpEndpoint: 'enabled',
      HttpPutResponseHopLimit: 1,
    });
    const userData = JSON.stringify(data.UserData);
    expect(userData).toContain('ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config');
  });

  it('passes cfn-lint', () => {
    expect(cfnLintTemplate(synthesizeTemplate(compiled, ASSETS).template, 'hardening')).toEqual({
      status: 0,
      output: '',
    });
  }, 180_000);
});

describe("the launcher's queue grant", () => {
  const show = (v: CfnValue) => JSON.stringify(v);

  it("berth's queues take SQS's largest body (1 MiB), which the launcher spills to the payload bucket", () => {
    for (const id of ['BerthJobOrdersQueue', 'BerthJobOrdersDeadLetterQueue'])
      expect(compiled.resources[id]!.Properties!.MaximumMessageSize).toBe(1_048_576);
  });

  it('lists the queues it reads: never a dead-letter queue or a worker queue', () => {
    const resources = policy('BerthLauncherRole')
      .filter((s) => s.Action.includes('sqs:ReceiveMessage'))
      .flatMap((s) => s.Resource.map(show));
    expect(resources).toEqual([
      show({ 'Fn::GetAtt': ['BerthLaunchQueue', 'Arn'] }),
      show({ 'Fn::GetAtt': ['BerthJobOrdersQueue', 'Arn'] }),
    ]);
  });

  it(`past ${MAX_LISTED_QUEUES} queues: berth's prefix, with DLQs and worker queues denied`, () => {
    const many = Array.from({ length: MAX_LISTED_QUEUES + 1 }, (_, i) =>
      job({ name: `q${i}`, trigger: { queue: {} } }),
    );
    many.push(job({ name: 'worker', trigger: { queue: { mode: 'service' } } }));
    const ctx = context({}, 'shop', 'dev');
    const [allow, deny] = launcherQueueStatements(many, ctx);
    expect(allow?.Effect).toBe('Allow');
    expect(allow?.Resource.map(show)).toContain(
      show({ 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:shop-dev__*' }),
    );
    expect(deny?.Effect).toBe('Deny');
    expect(deny?.Action).toEqual(allow?.Action);
    const denied = deny!.Resource.map(show).join(' ');
    expect(denied).toContain('shop-dev__*-dlq');
    expect(denied).toContain('shop-dev__*-dlq.fifo');
    expect(denied).toContain('BerthJobWorkerQueue');
    expect(denied).toContain('BerthLaunchDeadLetterQueue');
  });

  it('the stack with the fallback grant passes cfn-lint', () => {
    const many = Array.from({ length: MAX_LISTED_QUEUES + 1 }, (_, i) =>
      job({ name: `q${i}`, trigger: { queue: {} } }),
    );
    const stack = compileService({ service: 'shop', stage: 'dev', jobs: many });
    expect(cfnLintTemplate(synthesizeTemplate(stack, ASSETS).template, 'many-queues')).toEqual({
      status: 0,
      output: '',
    });
  }, 180_000);
});

/** `TaskLauncher` on ECS: one RunTask per attempt, correlated by construction (startedBy, tags, env). */
import { type ECSClient, RunTaskCommand, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import type { LaunchRequest, LaunchResult, TaskLauncher } from '../ports.js';
import type { BerthManifest } from './manifest.js';

export interface EcsNetwork {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
}

/** Fargate `failures[]` reasons that mean "no capacity now" (retry later or on other capacity). */
const CAPACITY_REASONS = [/capacity is unavailable/i, /limit on the number of vcpus/i, /RESOURCE:/, /quota/i];

const THROTTLE_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'Throttling',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

/** The SDK's transient names and Node socket codes (as `@smithy` retry classifies them). */
const NO_RESPONSE_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);
const NO_RESPONSE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * True when the call ended without an HTTP response (socket error, timeout): the request may have reached
 * ECS and started the task. Every error out of the SDK's retry loop carries `$metadata`; only a service
 * response sets its `httpStatusCode`.
 */
export function isNoResponse(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    cause?: unknown;
  } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.$metadata && e.$metadata.httpStatusCode === undefined) return true;
  if (e.$metadata?.httpStatusCode !== undefined) return false;
  if ((e.name && NO_RESPONSE_NAMES.has(e.name)) || (e.code && NO_RESPONSE_CODES.has(e.code))) return true;
  if (e.$retryable) return true;
  return e.cause !== undefined && e.cause !== e && isNoResponse(e.cause);
}

export function isThrottle(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string } | null;
  if (!e) return false;
  if (e.name && THROTTLE_NAMES.has(e.name)) return true;
  if (e.$metadata?.httpStatusCode === 429) return true;
  return /rate exceeded/i.test(e.message ?? '');
}

/** Tag holding the job's timeout on every task berth starts (read back by the sweeper for orphaned runs). */
export const TIMEOUT_TAG = 'berth:timeout';

/** ECS: "A total of 8192 characters are allowed for overrides. This limit includes the JSON formatting characters". */
export const ECS_OVERRIDES_LIMIT = 8192;
/** What berth allows itself: the limit less a margin for anything ECS counts that berth does not see. */
export const OVERRIDES_BUDGET = ECS_OVERRIDES_LIMIT - 512;

/**
 * Characters a RunTask request spends against the overrides limit, measured as ECS does: the overrides
 * serialized as JSON (every escaped quote and backslash counted), plus the tags berth adds, to stay on the
 * safe side of any future count that includes them.
 */
export function overridesLength(input: Pick<RunTaskCommandInput, 'overrides' | 'tags'>): number {
  return JSON.stringify(input.overrides ?? {}).length + JSON.stringify(input.tags ?? []).length;
}

export class EcsTaskLauncher implements TaskLauncher {
  constructor(
    private readonly ecs: ECSClient,
    private readonly options: { cluster: string; network: EcsNetwork; manifest: BerthManifest },
  ) {}

  /** The RunTask request for one attempt (exported for tests and `berth synth` previews). */
  request(req: LaunchRequest): RunTaskCommandInput {
    const task = this.options.manifest.tasks[req.job.name];
    if (!task) throw new Error(`job ${req.job.name} has no task in the berth manifest — redeploy the stack`);
    const { network } = this.options;
    return {
      cluster: this.options.cluster,
      taskDefinition: task.family,
      count: 1,
      ...this.placement(req),
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: network.subnets,
          securityGroups: network.securityGroups,
          assignPublicIp: network.assignPublicIp ? 'ENABLED' : 'DISABLED',
        },
      },
      startedBy: req.startedBy,
      group: `berth:${req.job.name}`,
      clientToken: req.clientToken,
      tags: [
        { key: 'berth:job', value: req.job.name },
        { key: 'berth:run', value: req.run.runId },
        { key: 'berth:attempt', value: String(req.attempt) },
        // The timeout travels with the task: the sweeper still enforces it if the job leaves the stack.
        { key: TIMEOUT_TAG, value: req.job.timeout },
      ],
      overrides: {
        containerOverrides: [
          {
            name: task.containerName,
            environment: Object.entries(req.environment).map(([name, value]) => ({ name, value })),
          },
        ],
      },
    };
  }

  /**
   * On-demand Fargate uses the FARGATE launch type (no capacity provider association needed); Spot can only
   * be asked for through a capacity provider strategy. EC2 jobs go through berth's EC2 capacity provider,
   * never the EC2 launch type: only the provider's managed scaling adds an instance when none has room (the
   * task waits in PROVISIONING meanwhile), where the launch type would fail at once.
   */
  private placement(
    req: LaunchRequest,
  ): Pick<RunTaskCommandInput, 'launchType' | 'capacityProviderStrategy'> {
    if (req.capacity === 'EC2') {
      const provider = this.options.manifest.ec2CapacityProvider;
      if (!provider) {
        throw new Error(
          `job ${req.job.name} runs on EC2 but the berth manifest names no EC2 capacity provider — add custom.berth.capacity.ec2 and redeploy`,
        );
      }
      return { capacityProviderStrategy: [{ capacityProvider: provider, weight: 1 }] };
    }
    if (req.capacity === 'FARGATE_SPOT')
      return { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] };
    return { launchType: 'FARGATE' };
  }

  /** True when the request for this environment keeps its overrides within `OVERRIDES_BUDGET`. */
  fitsInline(req: Pick<LaunchRequest, 'job' | 'run' | 'attempt' | 'environment'>): boolean {
    const input = this.request({ ...req, capacity: 'FARGATE', clientToken: '', startedBy: '' });
    return overridesLength(input) <= OVERRIDES_BUDGET;
  }

  async launch(req: LaunchRequest): Promise<LaunchResult> {
    const input = this.request(req);
    const length = overridesLength(input);
    if (length > ECS_OVERRIDES_LIMIT) {
      // RunTask would refuse it on every try: fail the attempt with the reason instead of calling ECS.
      return {
        ok: false,
        kind: 'failed',
        reason: `RunTask overrides would be ${length} characters (ECS allows ${ECS_OVERRIDES_LIMIT}) — pass the trigger by reference (payload bucket)`,
      };
    }
    try {
      const out = await this.ecs.send(new RunTaskCommand(input));
      const taskArn = out.tasks?.[0]?.taskArn;
      if (taskArn)
        return { ok: true, taskArn, capacity: out.tasks?.[0]?.capacityProviderName ?? req.capacity };
      const failure = out.failures?.[0];
      const reason =
        [failure?.reason, failure?.detail].filter(Boolean).join(': ') || 'RunTask started no task';
      const kind = CAPACITY_REASONS.some((re) => re.test(reason)) ? 'capacity' : 'failed';
      return { ok: false, kind, reason: `RunTask failure: ${reason}` };
    } catch (error) {
      if (isThrottle(error))
        return { ok: false, kind: 'throttled', reason: `RunTask throttled: ${message(error)}` };
      // A repeated clientToken with other parameters: the task of this attempt exists already.
      const conflict = error as { name?: string; resourceIds?: string[] };
      if (conflict.name === 'ConflictException' && conflict.resourceIds?.[0]) {
        return { ok: true, taskArn: conflict.resourceIds[0], capacity: req.capacity };
      }
      const name = (error as { name?: string }).name ?? 'Error';
      // Server-side faults are transient: let the queue bring the launch back rather than burn an attempt.
      if (name === 'ServerException' || (error as { $fault?: string }).$fault === 'server') {
        return { ok: false, kind: 'throttled', reason: `RunTask ${name}: ${message(error)}` };
      }
      // No response: RunTask may have started the task. Coming back as the same attempt reuses its client
      // token, so ECS returns that task instead of starting a second one; a new attempt would not.
      if (isNoResponse(error)) {
        return {
          ok: false,
          kind: 'throttled',
          reason: `RunTask got no response (${name}): ${message(error)}`,
        };
      }
      return { ok: false, kind: 'failed', reason: `RunTask ${name}: ${message(error)}` };
    }
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

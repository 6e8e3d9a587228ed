/**
 * Settings of the berth Lambdas, read once from the environment the compiler sets (`BERTH_ENV`).
 */
import { BERTH_ENV } from './manifest.js';

export interface AwsRuntimeConfig {
  region?: string;
  /** Custom endpoint for every client (moto server, LocalStack). */
  endpoint?: string;
  cluster: string;
  runsTable: string;
  eventBus: string;
  launchQueueUrl: string;
  launchQueueArn: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  scheduleGroup?: string;
  schedulerRoleArn?: string;
  payloadBucket?: string;
  /** Days a finished run is kept before DynamoDB's TTL removes it. @default 90 */
  runTtlDays: number;
  /**
   * How many launcher instances can run at once (the event source mappings' `MaximumConcurrency` summed):
   * each paces its RunTask calls at this share of the account's Fargate quotas. @default 1
   */
  launchConcurrency?: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Reads the runtime settings; throws naming the missing variable. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): AwsRuntimeConfig {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`${name} is not set — deploy the handler through berth's compiler`);
    return value;
  };
  const ttl = Number(env[BERTH_ENV.runTtlDays] ?? '90');
  return {
    region: env.AWS_REGION,
    endpoint: env.BERTH_AWS_ENDPOINT || undefined,
    cluster: need(BERTH_ENV.cluster),
    runsTable: need(BERTH_ENV.runsTable),
    eventBus: need(BERTH_ENV.eventBus),
    launchQueueUrl: need(BERTH_ENV.launchQueueUrl),
    launchQueueArn: need(BERTH_ENV.launchQueueArn),
    subnets: list(env[BERTH_ENV.subnets]),
    securityGroups: list(env[BERTH_ENV.securityGroups]),
    assignPublicIp: env[BERTH_ENV.assignPublicIp] === 'ENABLED' || env[BERTH_ENV.assignPublicIp] === 'true',
    scheduleGroup: env[BERTH_ENV.scheduleGroup] || undefined,
    schedulerRoleArn: env[BERTH_ENV.schedulerRoleArn] || undefined,
    payloadBucket: env[BERTH_ENV.payloadBucket] || undefined,
    runTtlDays: Number.isFinite(ttl) && ttl > 0 ? ttl : 90,
    launchConcurrency: Math.max(1, Math.floor(Number(env[BERTH_ENV.launchConcurrency] ?? '1')) || 1),
  };
}

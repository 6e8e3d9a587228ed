'use strict';

/**
 * JSON Schema of `custom.berth`, registered with Serverless so `serverless print|package` flags typos.
 * It mirrors the zod schema in src/compiler/config.ts (the source of truth, checked again at package time);
 * test/plugin/configSchema.test.ts keeps the two in step.
 */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Subnet ids (1–16) and security group ids (1–5): the task network and the App Runner endpoint. */
const SUBNET_IDS = {
  type: 'array',
  minItems: 1,
  maxItems: 16,
  items: { type: 'string', pattern: '^subnet-[0-9a-f]{8,17}$' },
};
const SECURITY_GROUP_IDS = {
  type: 'array',
  minItems: 1,
  maxItems: 5,
  items: { type: 'string', pattern: '^sg-[0-9a-f]{8,17}$' },
};

module.exports = {
  type: 'object',
  additionalProperties: false,
  properties: {
    jobsDir: { type: 'string', minLength: 1 },
    cluster: {
      anyOf: [
        { const: 'create' },
        { type: 'string', pattern: '^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\\d{12}:cluster/[A-Za-z0-9_-]{1,255}$' },
      ],
    },
    network: {
      anyOf: [
        { const: 'create' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['subnets', 'securityGroups'],
          properties: {
            subnets: SUBNET_IDS,
            securityGroups: SECURITY_GROUP_IDS,
            assignPublicIp: { type: 'boolean' },
          },
        },
      ],
    },
    runsTable: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ttlDays: { type: 'integer', minimum: 1, maximum: 3650 },
        pointInTimeRecovery: { type: 'boolean' },
      },
    },
    logRetentionDays: { enum: LOG_RETENTION_DAYS },
    launcherConcurrency: { type: 'integer', minimum: 2, maximum: 1000 },
    sourceMaps: { type: 'boolean' },
    payloadRetentionDays: { type: 'integer', minimum: 1, maximum: 3650 },
    capacity: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ec2: {
          type: 'object',
          additionalProperties: false,
          required: ['instanceTypes'],
          properties: {
            instanceTypes: {
              type: 'array',
              minItems: 1,
              maxItems: 40,
              items: { type: 'string', pattern: '^[a-z][a-z0-9-]*\\.[a-z0-9-]+$' },
            },
            architecture: { enum: ['x86_64', 'arm64'] },
            minSize: { type: 'integer', minimum: 0 },
            maxSize: { type: 'integer', minimum: 1 },
            targetCapacity: { type: 'integer', minimum: 1, maximum: 100 },
            instanceWarmupSeconds: { type: 'integer', minimum: 0, maximum: 10000 },
            spot: {
              type: 'object',
              additionalProperties: false,
              properties: {
                onDemandBaseCapacity: { type: 'integer', minimum: 0 },
                onDemandPercentageAboveBase: { type: 'integer', minimum: 0, maximum: 100 },
                allocationStrategy: {
                  enum: ['price-capacity-optimized', 'capacity-optimized', 'lowest-price'],
                },
              },
            },
          },
        },
      },
    },
    images: {
      type: 'object',
      additionalProperties: false,
      properties: {
        repository: { enum: ['service', 'job'] },
        scanOnPush: { type: 'boolean' },
        encryption: {
          anyOf: [
            { const: 'AES256' },
            {
              type: 'object',
              additionalProperties: false,
              required: ['kmsKey'],
              properties: { kmsKey: { type: 'string', minLength: 1 } },
            },
          ],
        },
        keepLast: { type: 'integer', minimum: 1, maximum: 1000 },
        untaggedDays: { type: 'integer', minimum: 1, maximum: 3650 },
        failOn: { enum: ['CRITICAL', 'HIGH'] },
        scanTimeoutSeconds: { type: 'integer', minimum: 10, maximum: 3600 },
        registry: { type: 'string', pattern: '^[A-Za-z0-9.-]+(:\\d+)?(/[a-z0-9._-]+)+$' },
      },
    },
    console: {
      type: 'object',
      additionalProperties: false,
      properties: {
        appRunner: {
          anyOf: [
            { type: 'boolean' },
            {
              type: 'object',
              additionalProperties: false,
              properties: {
                access: { enum: ['private', 'public'] },
                vpc: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['id', 'subnets', 'securityGroups'],
                  properties: {
                    id: { type: 'string', pattern: '^vpc-[0-9a-f]{8,17}$' },
                    subnets: SUBNET_IDS,
                    securityGroups: SECURITY_GROUP_IDS,
                  },
                },
                image: { type: 'string', minLength: 1 },
                base: { type: 'string', minLength: 1 },
                cpu: { enum: ['0.25 vCPU', '0.5 vCPU', '1 vCPU', '2 vCPU', '4 vCPU'] },
                memory: {
                  enum: ['0.5 GB', '1 GB', '2 GB', '3 GB', '4 GB', '6 GB', '8 GB', '10 GB', '12 GB'],
                },
              },
            },
          ],
        },
      },
    },
  },
};

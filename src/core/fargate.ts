/** Fargate task sizes (Linux) and prices. Source: ../reference/aws-facts.md §7 (ECS RegisterTaskDefinition model). */

export const FARGATE_CPU_VALUES = [256, 512, 1024, 2048, 4096, 8192, 16384] as const;
export type FargateCpu = (typeof FARGATE_CPU_VALUES)[number];

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** Valid memory (MiB) for each task CPU value. */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<FargateCpu, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: steps(2048, 8192, 1024),
  2048: steps(4096, 16384, 1024),
  4096: steps(8192, 30720, 1024),
  8192: steps(16384, 61440, 4096),
  16384: steps(32768, 122880, 8192),
};

export function isFargateCpu(cpu: number): cpu is FargateCpu {
  return (FARGATE_CPU_VALUES as readonly number[]).includes(cpu);
}

/** `undefined` when the pair is valid, otherwise `problem — fix`. */
export function checkFargateSize(cpu: number, memory: number): string | undefined {
  if (!isFargateCpu(cpu)) {
    return `${cpu} is not a Fargate CPU size — use one of ${FARGATE_CPU_VALUES.join(', ')} (CPU units, 1024 = 1 vCPU)`;
  }
  const valid = FARGATE_MEMORY_BY_CPU[cpu];
  if (!valid.includes(memory)) {
    const first = valid[0];
    const last = valid[valid.length - 1];
    const stepText = valid.length > 1 ? ` in steps of ${(valid[1] ?? 0) - (first ?? 0)}` : '';
    return `Fargate does not accept memory ${memory} MiB with cpu ${cpu} — with cpu ${cpu} use ${valid.length <= 4 ? valid.join(', ') : `${first} to ${last}${stepText}`} MiB`;
  }
  return undefined;
}

/** us-east-1 on-demand Linux prices (USD). Spot is variable; berth estimates it at 30% of on-demand. */
export const FARGATE_PRICES = {
  x86_64: { vcpuHour: 0.04048, gbHour: 0.004445 },
  arm64: { vcpuHour: 0.03238, gbHour: 0.00356 },
  ephemeralGbHourOver20: 0.000111,
  spotFactor: 0.3,
} as const;

/**
 * Cost estimate of one Fargate attempt: per second, one-minute minimum, from image pull to stop.
 * @example estimateFargateCost({ cpu: 1024, memory: 2048, architecture: 'x86_64', seconds: 30 }) // ≈ 0.00082
 */
export function estimateFargateCost(input: {
  cpu: number;
  memory: number;
  architecture: 'x86_64' | 'arm64';
  seconds: number;
  spot?: boolean;
  ephemeralStorageGiB?: number;
}): number {
  const billedSeconds = Math.max(60, Math.ceil(input.seconds));
  const hours = billedSeconds / 3600;
  const price = FARGATE_PRICES[input.architecture];
  let cost = (input.cpu / 1024) * price.vcpuHour * hours + (input.memory / 1024) * price.gbHour * hours;
  const extraStorage = Math.max(0, (input.ephemeralStorageGiB ?? 20) - 20);
  cost += extraStorage * FARGATE_PRICES.ephemeralGbHourOver20 * hours;
  if (input.spot) cost *= FARGATE_PRICES.spotFactor;
  return Math.round(cost * 1e8) / 1e8;
}

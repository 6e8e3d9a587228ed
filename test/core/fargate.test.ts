import { describe, expect, it } from 'vitest';
import {
  checkFargateSize,
  estimateFargateCost,
  FARGATE_CPU_VALUES,
  FARGATE_MEMORY_BY_CPU,
} from '../../src/core/fargate.js';

/** The table of valid pairs, written out from aws-facts.md §7.1 independently of src/core/fargate.ts. */
const range = (from: number, to: number, step: number) =>
  Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
const TABLE: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16 * 1024, 60 * 1024, 4 * 1024),
  16384: range(32 * 1024, 120 * 1024, 8 * 1024),
};

describe('checkFargateSize', () => {
  it('has the table of aws-facts.md §7.1', () => {
    expect([...FARGATE_CPU_VALUES]).toEqual(Object.keys(TABLE).map(Number));
    for (const cpu of FARGATE_CPU_VALUES) expect([...FARGATE_MEMORY_BY_CPU[cpu]]).toEqual(TABLE[cpu]);
  });

  it('accepts every valid pair', () => {
    let pairs = 0;
    for (const [cpu, memories] of Object.entries(TABLE)) {
      for (const memory of memories) {
        expect(checkFargateSize(Number(cpu), memory), `${cpu}/${memory}`).toBeUndefined();
        pairs++;
      }
    }
    expect(pairs).toBe(3 + 4 + 7 + 13 + 23 + 12 + 12);
  });

  it('rejects the neighbours of every valid pair that are not valid themselves', () => {
    for (const [cpuText, memories] of Object.entries(TABLE)) {
      const cpu = Number(cpuText);
      const valid = new Set(memories);
      for (const memory of memories) {
        for (const neighbour of [memory - 512, memory + 512, memory - 1, memory + 1]) {
          if (valid.has(neighbour)) continue;
          expect(checkFargateSize(cpu, neighbour), `${cpu}/${neighbour}`).toMatch(
            new RegExp(
              `^Fargate does not accept memory ${neighbour} MiB with cpu ${cpu} — with cpu ${cpu} use `,
            ),
          );
        }
      }
      const below = (memories[0] ?? 0) - 1024;
      const above = (memories.at(-1) ?? 0) + 8192;
      expect(checkFargateSize(cpu, below)).toBeDefined();
      expect(checkFargateSize(cpu, above)).toBeDefined();
    }
  });

  it('names the CPU sizes when the CPU is not one', () => {
    for (const cpu of [0, 128, 255, 257, 768, 1000, 3072, 32768]) {
      expect(checkFargateSize(cpu, 2048)).toBe(
        `${cpu} is not a Fargate CPU size — use one of 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units, 1024 = 1 vCPU)`,
      );
    }
  });

  it('states the valid memory of the CPU in the fix', () => {
    expect(checkFargateSize(8192, 20000)).toBe(
      'Fargate does not accept memory 20000 MiB with cpu 8192 — with cpu 8192 use 16384 to 61440 in steps of 4096 MiB',
    );
  });
});

describe('estimateFargateCost', () => {
  it('1 vCPU / 2 GB for 30 s bills the one-minute minimum: ≈ $0.00082', () => {
    const cost = estimateFargateCost({ cpu: 1024, memory: 2048, architecture: 'x86_64', seconds: 30 });
    expect(cost).toBeCloseTo((0.04048 + 2 * 0.004445) / 60, 8);
    expect(cost).toBeCloseTo(0.00082, 5);
    expect(estimateFargateCost({ cpu: 1024, memory: 2048, architecture: 'x86_64', seconds: 60 })).toBe(cost);
  });

  it('bills per second after the first minute', () => {
    const hour = estimateFargateCost({ cpu: 1024, memory: 2048, architecture: 'x86_64', seconds: 3600 });
    expect(hour).toBeCloseTo(0.04937, 5);
    const justOver = estimateFargateCost({ cpu: 1024, memory: 2048, architecture: 'x86_64', seconds: 60.2 });
    expect(justOver).toBeCloseTo((61 / 3600) * 0.04937, 8);
  });

  it('0.25 vCPU / 0.5 GB for an hour is $0.01234; 4 vCPU / 16 GB is ≈ $0.233', () => {
    expect(estimateFargateCost({ cpu: 256, memory: 512, architecture: 'x86_64', seconds: 3600 })).toBeCloseTo(
      0.01234,
      5,
    );
    expect(
      estimateFargateCost({ cpu: 4096, memory: 16384, architecture: 'x86_64', seconds: 3600 }),
    ).toBeCloseTo(0.233, 3);
  });

  it('arm64 is cheaper; Spot is estimated at 30%; storage above 20 GiB is billed', () => {
    const base = { cpu: 1024, memory: 2048, seconds: 3600 } as const;
    const x86 = estimateFargateCost({ ...base, architecture: 'x86_64' });
    expect(estimateFargateCost({ ...base, architecture: 'arm64' })).toBeCloseTo(0.03238 + 2 * 0.00356, 6);
    expect(estimateFargateCost({ ...base, architecture: 'x86_64', spot: true })).toBeCloseTo(x86 * 0.3, 6);
    expect(estimateFargateCost({ ...base, architecture: 'x86_64', ephemeralStorageGiB: 20 })).toBe(x86);
    expect(estimateFargateCost({ ...base, architecture: 'x86_64', ephemeralStorageGiB: 120 })).toBeCloseTo(
      x86 + 100 * 0.000111,
      6,
    );
  });
});

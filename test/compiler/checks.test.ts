import { describe, expect, it } from 'vitest';
import { CONFIG_FILE, checkConfig, checkProject, formatProjectIssue } from '../../src/compiler/checks.js';
import { compileService, parseConfig } from '../../src/compiler/compile.js';
import { CompileError } from '../../src/compiler/errors.js';
import { formatJobIssue } from '../../src/core/errors.js';
import { job } from './helpers.js';

const worker = (stepScaling: { visibleAtLeast: number; addTasks: number }[]) =>
  job({
    name: 'worker',
    trigger: { queue: { mode: 'service', service: { minTasks: 0, maxTasks: 20, stepScaling } } },
  });

describe('checkProject: the checks validate and the compiler share', () => {
  it('collects every problem of every job, config problems first', () => {
    const jobs = [
      job({ name: 'q', trigger: { queue: { visibilityTimeout: '2m' } } }),
      worker([
        { visibleAtLeast: 100, addTasks: 2 },
        { visibleAtLeast: 100, addTasks: 5 },
      ]),
      job({ name: 'n', notify: { sns: ['arn:aws:sns:us-east-1:123456789012:a.fifo'] } }),
      job({ name: 'e', task: { image: 'i', capacity: { provider: 'ec2' } } }),
    ];
    const config = parseConfig({
      capacity: { ec2: { instanceTypes: ['m7i.large'], minSize: 3, maxSize: 1 } },
    });
    expect(checkProject(jobs, config).map(formatJobIssue)).toEqual([
      'serverless.yml: custom.berth.capacity.ec2.minSize: 3 is greater than maxSize 1 — raise maxSize or lower minSize',
      "jobs/q.ts: trigger.queue.visibilityTimeout: 2m is shorter than 6× the launcher timeout (30s), so a message could be delivered again while its launch still runs — use at least '3m'",
      'jobs/worker.ts: trigger.queue.service.stepScaling: two steps start at 100 visible messages — give each step its own threshold',
      'jobs/n.ts: notify.sns: arn:aws:sns:us-east-1:123456789012:a.fifo is a FIFO topic, which EventBridge rules cannot publish to without a message group — use a standard topic',
    ]);
  });

  it('the compiler refuses exactly what checkProject reports, in the same words', () => {
    const jobs = [
      worker([
        { visibleAtLeast: 10, addTasks: 1 },
        { visibleAtLeast: 10, addTasks: 3 },
      ]),
    ];
    const issues = checkProject(jobs, parseConfig({}));
    expect(() => compileService({ jobs, service: 's', stage: 'd' })).toThrow(CompileError);
    expect(() => compileService({ jobs, service: 's', stage: 'd' })).toThrow(
      issues.map((i) => formatProjectIssue(i)).join('\n'),
    );
    // An own queue of 3m, an existing queue and a service worker are fine.
    const fine = [
      job({ name: 'a', trigger: { queue: { visibilityTimeout: '3m' } } }),
      job({ name: 'b', trigger: { queue: { existing: 'theirs', visibilityTimeout: '30s' } } }),
      worker([{ visibleAtLeast: 10, addTasks: 1 }]),
    ];
    expect(checkProject(fine, parseConfig({}))).toEqual([]);
    expect(() => compileService({ jobs: fine, service: 's', stage: 'd' })).not.toThrow();
  });

  it('checkConfig: custom.berth problems in berth words, paths under custom.berth', () => {
    const { config, issues } = checkConfig({ launcherConcurrency: 1, cluster: 5 }, CONFIG_FILE);
    expect(config).toBeUndefined();
    expect(issues.map(formatJobIssue)).toEqual([
      expect.stringMatching(/^serverless\.yml: custom\.berth\.cluster: /),
      'serverless.yml: custom.berth.launcherConcurrency: is 1, below the minimum of 2 — use at least 2',
    ]);
    expect(() => parseConfig({ launcherConcurrency: 1 })).toThrow(
      'custom.berth.launcherConcurrency: is 1, below the minimum of 2 — use at least 2',
    );
  });
});

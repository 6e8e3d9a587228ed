/**
 * The resource budget: CloudFormation allows 500 resources and a 1 MB template (uploaded through S3) per
 * stack. berth spends a fixed set of shared resources plus a few per job; past the quota it fails with the
 * count and how to split the service, rather than letting CloudFormation reject the deploy.
 */
import type { Resources, Template } from './cfn.js';
import { ResourceBudgetError } from './errors.js';

export const MAX_RESOURCES = 500;
/** CloudFormation's limit for a template body uploaded through S3 (1 MB). */
export const MAX_TEMPLATE_BYTES = 1_000_000;

export interface BudgetReport {
  /** Resources in the whole template. */
  total: number;
  /** Resources shared by all jobs (cluster, queues, table, roles, Lambdas, network, …). */
  shared: number;
  /** Resources each job adds. */
  perJob: Record<string, number>;
  templateBytes: number;
}

export function templateBytes(template: Template | { Resources: Resources }): number {
  // Serverless and `berth synth` both write the template indented by 2 spaces: measure what is uploaded.
  return Buffer.byteLength(JSON.stringify(template, null, 2));
}

export function checkBudget(
  template: Template | { Resources: Resources },
  perJob: Record<string, number>,
): BudgetReport {
  const total = Object.keys(template.Resources).length;
  const bytes = templateBytes(template);
  const jobCount = Object.keys(perJob).length;
  const jobResources = Object.values(perJob).reduce((a, b) => a + b, 0);
  const report = { total, shared: total - jobResources, perJob, templateBytes: bytes };
  if (total > MAX_RESOURCES || bytes > MAX_TEMPLATE_BYTES) {
    const average = jobCount ? jobResources / jobCount : 0;
    const fit = average ? Math.floor((MAX_RESOURCES - report.shared) / average) : 0;
    const what =
      total > MAX_RESOURCES
        ? `${total} resources (CloudFormation allows ${MAX_RESOURCES} per stack)`
        : `a ${bytes}-byte template (CloudFormation allows ${MAX_TEMPLATE_BYTES})`;
    throw new ResourceBudgetError(
      `the stack would hold ${what}: ${report.shared} shared + ${jobResources} for ${jobCount} jobs (${average.toFixed(1)} per job) — split the jobs into several services of about ${Math.max(1, fit)} jobs each (one folder per service, each with its own serverless.yml and custom.berth.jobsDir)`,
      total,
      bytes,
    );
  }
  return report;
}

/**
 * `berth synth`: the whole stack as one CloudFormation template, without Serverless. The Lambda code is
 * referenced through two parameters, like CDK assets: upload the zips `synth` writes next to the template to
 * `s3://<BerthAssetsBucket>/<BerthAssetsKeyPrefix><file>` before creating the stack.
 */
import { type BudgetReport, checkBudget } from './budget.js';
import { ref, sub, type Template } from './cfn.js';
import type { CompiledService } from './compile.js';
import { renderFunction } from './functions.js';

export const ASSETS_BUCKET_PARAMETER = 'BerthAssetsBucket';
export const ASSETS_PREFIX_PARAMETER = 'BerthAssetsKeyPrefix';

export interface SynthResult {
  template: Template;
  budget: BudgetReport;
}

/** `assetFiles`: function kind → zip file name (content-hashed, so a code change changes the key). */
export function synthesizeTemplate(
  compiled: CompiledService,
  assetFiles: Record<string, string>,
): SynthResult {
  const resources = { ...compiled.resources };
  for (const spec of compiled.functions) {
    const file = assetFiles[spec.kind];
    if (!file) throw new Error(`no bundle for the ${spec.kind} function`);
    Object.assign(
      resources,
      renderFunction(
        spec,
        { S3Bucket: ref(ASSETS_BUCKET_PARAMETER), S3Key: sub(`\${${ASSETS_PREFIX_PARAMETER}}${file}`) },
        compiled.context,
      ),
    );
  }
  const template: Template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `berth jobs of ${compiled.context.names.service} (${compiled.context.names.stage})`,
    Parameters: {
      [ASSETS_BUCKET_PARAMETER]: {
        Type: 'String',
        Description: 'S3 bucket holding the berth Lambda zips written by berth synth',
      },
      [ASSETS_PREFIX_PARAMETER]: {
        Type: 'String',
        Description: 'Key prefix of the zips in that bucket (end it with /)',
        Default: 'berth/',
      },
      ...compiled.parameters,
    },
    Resources: resources,
    Outputs: compiled.outputs,
  };
  return { template, budget: checkBudget(template, compiled.perJob) };
}

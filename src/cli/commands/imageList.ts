/**
 * `berth image list --stage <stage>`: each built job's current image on AWS with its scan summary. Registered on
 * the `image` command of image.ts. The AWS SDK is loaded only when the command runs.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { parseConfig } from '../../compiler/compile.js';
import { createNames } from '../../compiler/naming.js';
import { CliError, printJson } from '../output.js';
import { loadProjectJobs, projectPaths } from '../project.js';
import { serverlessDefaults } from './synth.js';

interface ListOptions {
  stage?: string;
  region?: string;
  service?: string;
  json?: boolean;
}

export function registerImageList(image: Command): void {
  image
    .command('list')
    .description("Each built job's current image on the stage, with its ECR scan summary")
    .option('--stage <stage>', 'the deployed stage')
    .option('--region <region>', 'AWS region of the stage (default: from the AWS config)')
    .option('--service <name>', 'service name (default: from serverless.yml)')
    .option('--json', 'print JSON: one object per job')
    .action(async (opts: ListOptions, cmd: Command) => {
      if (!opts.stage) throw new CliError('--stage: required — name the deployed stage, like --stage dev');
      const { root } = projectPaths(cmd);
      const defaults = await serverlessDefaults(root);
      const config = parseConfig(defaults.berth ?? {});
      if (config.images.registry)
        throw new CliError(
          `custom.berth.images.registry: the images live in ${config.images.registry}, not ECR — list them with that registry's tools`,
        );
      const jobs = await loadProjectJobs(cmd);
      const names = createNames(opts.service ?? defaults.service ?? basename(root), opts.stage);
      const [{ ECRClient }, { ECSClient }, { listJobImages, imageListTable }] = await Promise.all([
        import('@aws-sdk/client-ecr'),
        import('@aws-sdk/client-ecs'),
        import('../../runtime/aws/imageList.js'),
      ]);
      const client = opts.region ? { region: opts.region } : {};
      const rows = await listJobImages({
        jobs,
        names,
        images: config.images,
        ecr: new ECRClient(client),
        ecs: new ECSClient(client),
      });
      if (opts.json) return printJson(rows);
      process.stdout.write(
        rows.length ? `${imageListTable(rows)}\n` : 'no job builds its image (task.build)\n',
      );
    });
}

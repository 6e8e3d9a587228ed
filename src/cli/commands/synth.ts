import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { imagesStackName } from '../../compiler/ecr.js';
import { CliError } from '../output.js';
import { readBerthConfig } from '../project.js';

interface SynthOptions {
  out?: string;
  images?: boolean;
  service?: string;
  stage: string;
  config?: string;
}

export { serverlessDefaults } from '../project.js';

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('Write the CloudFormation template of every job (no Serverless needed) and the Lambda zips')
    .option('--out <file>', 'template file (default: stdout); the zips go to berth-assets/ beside it')
    .option('--service <name>', 'service name (default: serverless.yml service, else the folder name)')
    .option('--stage <stage>', 'stage name', 'dev')
    .option(
      '--images',
      'write the image repositories stack (<service>-<stage>-images, deployed before the service) instead',
    )
    .option(
      '--config <file>',
      'JSON file with the custom.berth settings (default: serverless.yml custom.berth)',
    )
    .action(async (opts: SynthOptions, cmd: Command) => {
      // One reading of custom.berth and the jobs folder, shared with berth validate.
      const { root, config, service: defaultService } = await readBerthConfig(cmd, opts.config);
      const out = opts.out ? resolve(opts.out) : undefined;
      const assetsDir = out
        ? join(dirname(out), 'berth-assets')
        : join(root, '.berth', 'synth', 'berth-assets');
      const service = opts.service ?? defaultService;
      // The compiler (esbuild, the CloudFormation writers) loads only when synth runs.
      const { buildService } = await import('../../compiler/index.js');
      const { synthesizeTemplate } = await import('../../compiler/synth.js');
      const { compiled, bundles } = await buildService({
        serviceDir: root,
        service,
        stage: opts.stage,
        config,
        outDir: assetsDir,
      });
      if (opts.images) {
        const images = compiled.imagesTemplate;
        if (!images)
          throw new CliError(
            'no image repositories: no job has task.build (or custom.berth.images.registry names another registry)',
          );
        const text = `${JSON.stringify(images, null, 2)}\n`;
        if (out) {
          mkdirSync(dirname(out), { recursive: true });
          writeFileSync(out, text);
        } else process.stdout.write(text);
        process.stderr.write(
          `${pc.green('✔')} ${Object.keys(images.Resources).length} image repositories → deploy as stack ${imagesStackName(compiled.context.names)} before the service stack${out ? ` (${out})` : ''}\n`,
        );
        return;
      }
      const { template, budget } = synthesizeTemplate(
        compiled,
        Object.fromEntries(bundles.map((b) => [b.kind, b.fileName])),
      );
      const json = `${JSON.stringify(template, null, 2)}\n`;
      if (out) {
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, json);
      } else process.stdout.write(json);
      const jobs = Object.keys(budget.perJob).length;
      process.stderr.write(
        `${pc.green('✔')} ${jobs} job${jobs === 1 ? '' : 's'} → ${budget.total} resources (${budget.shared} shared), ${budget.templateBytes} bytes${out ? ` → ${out}` : ''}\n` +
          `  upload ${bundles.map((b) => b.fileName).join(', ')} from ${assetsDir} to s3://<BerthAssetsBucket>/<BerthAssetsKeyPrefix>\n`,
      );
      const images = Object.keys(compiled.parameters).filter((p) => p !== 'BerthConsoleImage');
      if (compiled.parameters.BerthConsoleImage)
        process.stderr.write(
          `  the console on App Runner: deploy berth synth --images first, then berth image console --stage ${opts.stage} --push <its console repository uri>, and pass the printed reference as BerthConsoleImage\n`,
        );
      if (images.length) {
        process.stderr.write(
          `  ${images.length} built image${images.length === 1 ? '' : 's'}: deploy berth synth --images first, push each job with berth image build <job> --push <repository uri>, and pass the printed reference as ${images.join(', ')}\n`,
        );
      }
    });
}

/**
 * `berth image console --stage <stage> --push <registry>/<repository>`: the runs console's App Runner image
 * (src/console/image.ts: berth's console entry bundled with this project's jobs for that stage, the dashboard's
 * assets, the Node base) without Serverless, for `berth synth` users: pass the printed reference as the stack
 * parameter `BerthConsoleImage`, or set it as `custom.berth.console.appRunner.image`. `serverless deploy`
 * builds the same image by itself. Registered on the `image` command of image.ts.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { BuildProgress, RegistryTarget } from '../../image/types.js';
import { CliError, printJson } from '../output.js';
import { loadProjectJobs, projectPaths } from '../project.js';
import { credentialsFor, progressText } from './image.js';
import { serverlessDefaults } from './synth.js';

interface ConsoleImageOptions {
  stage?: string;
  service?: string;
  push?: string;
  base?: string;
  insecure?: boolean;
  json?: boolean;
}

export function registerImageConsole(image: Command): void {
  image
    .command('console')
    .description(
      "Build the runs console's App Runner image for a stage and push it; print the pinned <registry>/<repository>@sha256:… as the last line",
    )
    .option('--stage <stage>', 'the stage the console is for (its jobs and resource names)')
    .option('--service <name>', 'service name (default: serverless.yml service, else the folder name)')
    .option(
      '--push <registry/repository>',
      'where App Runner will pull it from, e.g. <account>.dkr.ecr.<region>.amazonaws.com/berth/<service>-<stage>/console',
    )
    .option('--base <image>', "base image (default: console.appRunner.base, else berth's Node base)")
    .option('--insecure', 'speak plain HTTP to a registry that is not on 127.0.0.1/localhost')
    .option('--json', 'print { reference, digest, tag, layers, bytesUploaded } as JSON')
    .action(async (opts: ConsoleImageOptions, cmd: Command) => {
      if (!opts.stage)
        throw new CliError('--stage: required — name the stage the console is for, like --stage prod');
      if (!opts.push)
        throw new CliError(
          '--push: required — App Runner pulls the console from a registry: give <registry>/<repository>',
        );
      const { root } = projectPaths(cmd);
      const defaults = await serverlessDefaults(root);
      const jobs = await loadProjectJobs(cmd);
      const [{ compileService }, { buildConsoleImage }, { parsePushTarget }] = await Promise.all([
        import('../../compiler/compile.js'),
        import('../../console/image.js'),
        import('../../image/index.js'),
      ]);
      const compiled = compileService({
        jobs,
        config: defaults.berth ?? {},
        service: opts.service ?? defaults.service ?? basename(root),
        stage: opts.stage,
      });
      const where = parsePushTarget(opts.push);
      const credentials = credentialsFor(where.registry);
      const target: RegistryTarget = {
        ...where,
        ...(opts.insecure ? { insecure: true } : {}),
        ...(credentials ? { credentials } : {}),
      };
      const base = opts.base ?? compiled.context.config.console.appRunner?.base;
      const started = performance.now();
      const result = await buildConsoleImage({
        manifest: compiled.manifest,
        target,
        projectDir: root,
        ...(base ? { base } : {}),
        ...(opts.json
          ? {}
          : {
              onProgress: (event: BuildProgress) => {
                const text = progressText(event);
                if (text) process.stderr.write(`${pc.dim('[console]')} ${text}\n`);
              },
            }),
      });
      if (opts.json)
        return printJson({
          reference: result.reference,
          digest: result.digest,
          tag: result.tag,
          layers: result.layers,
          bytesUploaded: result.bytesUploaded,
        });
      process.stderr.write(
        `${pc.green('✔')} console (${jobs.length} job${jobs.length === 1 ? '' : 's'}, stage ${opts.stage}): ${result.layers.length} layers, ${result.bytesUploaded} bytes uploaded, tag ${result.tag} (${Math.round(performance.now() - started)} ms)\n` +
          `  use it as the stack parameter BerthConsoleImage, or as custom.berth.console.appRunner.image\n`,
      );
      process.stdout.write(`${result.reference}\n`);
    });
}

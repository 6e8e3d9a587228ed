import type { Command } from 'commander';
import { openDirect, queueNameOf, sendDirect } from '../../runtime/local/direct.js';
import { devPaths } from '../../runtime/local/paths.js';
import { CliError, printJson } from '../output.js';
import { findJob, loadProjectJobs, projectPaths } from '../project.js';

export function registerSend(program: Command): void {
  program
    .command('send <job> <json>')
    .description(
      "Send a message to a job's local queue (durable: berth dev picks it up, now or when it starts)",
    )
    .option('--delay <seconds>', 'delay delivery (0-900 seconds, like SQS DelaySeconds)', '0')
    .option('--json', 'print { messageId, md5OfBody } as JSON')
    .action(async (name: string, body: string, opts: { delay: string; json?: boolean }, cmd: Command) => {
      try {
        JSON.parse(body);
      } catch (error) {
        throw new CliError(
          `<json>: not valid JSON (${(error as Error).message}) — quote it for the shell: berth send ${name} '{"orderId":1}'`,
        );
      }
      const delay = Number(opts.delay);
      if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
        throw new CliError(`--delay: "${opts.delay}" is not a whole number of seconds from 0 to 900`);
      }
      const job = findJob(await loadProjectJobs(cmd), name);
      if (!queueNameOf(job)) {
        throw new CliError(
          `${job.file}: trigger.queue: job '${name}' has no queue trigger — add trigger.queue, or use berth invoke ${name} --payload '<json>'`,
        );
      }
      const handle = openDirect(devPaths(projectPaths(cmd).root));
      try {
        const sent = sendDirect(handle, job, body, { delaySeconds: delay });
        if (opts.json) printJson(sent);
        else process.stdout.write(`sent message ${sent.messageId} to ${name}\n`);
      } finally {
        handle.close();
      }
    });
}

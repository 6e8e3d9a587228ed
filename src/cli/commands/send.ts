import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { credentialsFile, readCredentialsFile } from '../../runtime/local/credentials.js';
import { devPaths, runningEngine } from '../../runtime/local/paths.js';
import { signRequest } from '../../runtime/local/sigv4.js';
import {
  checkMessageBody,
  LOCAL_ACCOUNT_ID,
  SQS_MAX_GROUP_OR_DEDUP_ID,
  SqsError,
} from '../../runtime/local/sqs.js';
import { CliError, printJson } from '../output.js';
import { projectRoot } from '../paths.js';

interface SendOptions {
  delay: string;
  bodyFile?: string;
  groupId?: string;
  dedupId?: string;
  json?: boolean;
}

/** Reads the body from a file, or from standard input for `-`. */
function readBodyFile(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const what = path === '-' ? 'standard input' : path;
    throw new CliError(`--body-file: cannot read ${what} (${(error as Error).message})`);
  }
}

/** SQS's rule for message group and deduplication ids: 1–128 characters from ASCII 33–126. */
function checkId(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > SQS_MAX_GROUP_OR_DEDUP_ID || !/^[\x21-\x7E]+$/.test(value)) {
    throw new CliError(
      `${flag}: "${value}" is not a valid id — use 1 to ${SQS_MAX_GROUP_OR_DEDUP_ID} characters from a-z, A-Z, 0-9 and punctuation (no spaces)`,
    );
  }
  return value;
}

/**
 * With `berth dev` running, the message goes to its SQS endpoint (SendMessage, signed with the engine's
 * `.berth/credentials`): no job file is loaded, the engine checks the queue against the jobs it runs (the
 * last good version of each) and starts the run at once. Undefined when no engine answers or it refuses the
 * message: the direct path then checks the job itself and names the file and the fix.
 */
async function sendThroughEngine(
  root: string,
  queue: string,
  body: string,
  options: { delaySeconds: number; groupId?: string },
): Promise<{ messageId: string; md5OfBody: string } | undefined> {
  const paths = devPaths(root);
  const url = runningEngine(paths)?.url;
  if (url === undefined) return undefined;
  const credentials = readCredentialsFile(credentialsFile(paths));
  if (!credentials) return undefined;
  const payload = JSON.stringify({
    QueueUrl: `${url}/${LOCAL_ACCOUNT_ID}/${queue}`,
    MessageBody: body,
    DelaySeconds: options.delaySeconds,
    ...(options.groupId !== undefined ? { MessageGroupId: options.groupId } : {}),
  });
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': 'AmazonSQS.SendMessage',
  };
  try {
    const signed = await signRequest({ credentials, url: `${url}/`, headers, body: payload });
    const { host: _host, ...send } = signed;
    const res = await fetch(`${url}/`, {
      method: 'POST',
      headers: send,
      body: payload,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) return undefined;
    const out = (await res.json()) as { MessageId?: string; MD5OfMessageBody?: string };
    if (!out.MessageId || !out.MD5OfMessageBody) return undefined;
    return { messageId: out.MessageId, md5OfBody: out.MD5OfMessageBody };
  } catch {
    return undefined;
  }
}

export function registerSend(program: Command): void {
  program
    .command('send <job> [json]')
    .description(
      "Send a message to a job's local queue (durable: berth dev picks it up, now or when it starts). The body is <json>, or read from --body-file <path> or standard input (- as <json> or as the path)",
    )
    .option('--body-file <path>', 'read the message body from a file (- for standard input), sent as it is')
    .option('--delay <seconds>', 'delay delivery (0-900 seconds, like SQS DelaySeconds)', '0')
    .option(
      '--group-id <id>',
      'FIFO jobs: the message group (required for a FIFO queue, like SQS MessageGroupId)',
    )
    .option(
      '--dedup-id <id>',
      'FIFO jobs: deduplication id — a second send with the same id within 5 minutes is not queued again',
    )
    .option('--json', 'print { messageId, md5OfBody } as JSON')
    .addHelpText(
      'after',
      `
Examples:
  berth send orders '{"orderId":1}'
  berth send orders --body-file order.json
  cat order.json | berth send orders -
  berth send ledger '{"entry":7}' --group-id account-42 --dedup-id entry-7`,
    )
    .action(async (name: string, inline: string | undefined, opts: SendOptions, cmd: Command) => {
      const fromStdin = inline === '-';
      if (inline !== undefined && !fromStdin && opts.bodyFile !== undefined) {
        throw new CliError(`give the body once: either <json> or --body-file ${opts.bodyFile}, not both`);
      }
      if (inline === undefined && opts.bodyFile === undefined) {
        throw new CliError(
          `no message body — give it inline (berth send ${name} '{"orderId":1}'), from a file (--body-file order.json) or from standard input (berth send ${name} -)`,
        );
      }
      let body: string;
      if (inline !== undefined && !fromStdin) {
        // Inline bodies are JSON: the check catches shell quoting mistakes.
        try {
          JSON.parse(inline);
        } catch (error) {
          throw new CliError(
            `<json>: not valid JSON (${(error as Error).message}) — quote it for the shell: berth send ${name} '{"orderId":1}', or send a file as it is with --body-file`,
          );
        }
        body = inline;
      } else {
        // A file or standard input is sent as it is (any text SQS accepts).
        body = readBodyFile(fromStdin ? '-' : (opts.bodyFile as string));
      }
      const source = fromStdin || opts.bodyFile === '-' ? 'standard input' : (opts.bodyFile ?? '<json>');
      try {
        checkMessageBody(body);
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        const why =
          body.length === 0 ? 'the body is empty — SQS needs at least one character' : error.message;
        throw new CliError(`${source}: ${why}`);
      }
      const delay = Number(opts.delay);
      if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
        throw new CliError(`--delay: "${opts.delay}" is not a whole number of seconds from 0 to 900`);
      }
      const groupId = checkId('--group-id', opts.groupId);
      const deduplicationId = checkId('--dedup-id', opts.dedupId);
      // A deduplication id needs the job's own FIFO setting checked first: only plain sends take the fast path.
      const viaEngine =
        deduplicationId === undefined
          ? await sendThroughEngine(projectRoot(cmd), name, body, {
              delaySeconds: delay,
              ...(groupId !== undefined ? { groupId } : {}),
            })
          : undefined;
      if (viaEngine) {
        if (opts.json) printJson(viaEngine);
        else process.stdout.write(`sent message ${viaEngine.messageId} to ${name}\n`);
        return;
      }
      // No engine took it: check the job here (the loader and SQLite load only now) and write it directly.
      const { findJob, loadProjectJobs } = await import('../project.js');
      const { openDirect, queueNameOf, sendDirect } = await import('../../runtime/local/direct.js');
      const job = findJob(await loadProjectJobs(cmd), name);
      const queue = job.triggers.find((t) => t.kind === 'queue');
      if (!queue || !queueNameOf(job)) {
        throw new CliError(
          `${job.file}: trigger.queue: job '${name}' has no queue trigger — add trigger.queue, or use berth invoke ${name} --payload '<json>'`,
        );
      }
      if (queue.fifo && groupId === undefined) {
        throw new CliError(
          `--group-id: job '${name}' reads a FIFO queue (${job.file}: trigger.queue.fifo), which needs a message group — add --group-id <id> (messages of one group run in order)`,
        );
      }
      if (!queue.fifo && deduplicationId !== undefined) {
        throw new CliError(
          `--dedup-id: job '${name}' reads a standard queue; deduplication ids are for FIFO queues only (${job.file}: trigger.queue.fifo: true) — drop --dedup-id`,
        );
      }
      const handle = openDirect(devPaths(projectRoot(cmd)));
      try {
        const sent = sendDirect(handle, job, body, {
          delaySeconds: delay,
          ...(groupId !== undefined ? { groupId } : {}),
          ...(deduplicationId !== undefined ? { deduplicationId } : {}),
        });
        if (opts.json) printJson(sent);
        else process.stdout.write(`sent message ${sent.messageId} to ${name}\n`);
      } finally {
        handle.close();
      }
    });
}

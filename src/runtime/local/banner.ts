import { relative } from 'node:path';
import pc from 'picocolors';
import { formatJobIssue } from '../../core/errors.js';
import { isoInZone } from '../../core/model/describe.js';
import { jobWarnings } from '../../core/model/warnings.js';
import { serviceOptionsOf } from '../../core/scaling/backlog.js';
import { describeSchedule } from '../../core/schedule/index.js';
import { queueNameOf } from './direct.js';
import type { LocalEngine } from './engine.js';

/** The banner: what is watched, where, on which port, and the dashboard URL. */
export function describeEngine(engine: LocalEngine): string[] {
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const lines = [
    `${pc.bold(pc.cyan('berth dev'))}  ${engine.jobs().length} job${engine.jobs().length === 1 ? '' : 's'} in ${rel(engine.paths.root)}`,
  ];
  for (const job of engine.jobs()) {
    const parts: string[] = [];
    for (const t of job.triggers) {
      if (t.kind === 's3') {
        parts.push(
          `bucket folder ${rel(`${engine.paths.buckets}/${t.bucket}`)}/${t.prefix ?? ''}*${t.suffix ?? ''}`,
        );
      } else if (t.kind === 'schedule') {
        const next = engine.nextFireTimes(job.name, 1)[0];
        parts.push(
          `${describeSchedule(t.expression, t.timezone)}${next ? `, next ${isoInZone(new Date(next), t.timezone)}` : ''}`,
        );
      } else if (t.kind === 'queue') {
        const fleet = serviceOptionsOf(t);
        const workers = fleet ? `, ${fleet.minTasks}–${fleet.maxTasks} workers` : '';
        parts.push(`queue ${queueNameOf(job)}${workers} (berth send ${job.name} '<json>')`);
      }
    }
    if (parts.length === 0) parts.push(`invoke only (berth invoke ${job.name})`);
    lines.push(`  ${pc.bold(job.name.padEnd(16))} ${parts.join('; ')}`);
  }
  // The warnings berth validate prints (a schedule that never fires again, a retry rule that turns retries
  // off): locally they explain why nothing happens.
  const now = new Date();
  for (const job of engine.jobs()) {
    for (const w of jobWarnings(job, now)) lines.push(`  ${pc.yellow('⚠')} ${formatJobIssue(w)}`);
  }
  const url = engine.info.url;
  lines.push(
    `  ${pc.dim('dashboard')}  ${engine.hasDashboard ? pc.underline(`${url}/`) : `${url}/ (dashboard not installed)`}`,
    `  ${pc.dim('events   ')}  ${url}/events (server-sent events)   ${pc.dim('SQS endpoint')} ${url}`,
    `  ${pc.dim('SQS creds')}  AWS_SHARED_CREDENTIALS_FILE=${rel(engine.paths.dir)}/credentials AWS_PROFILE=berth-dev ${pc.dim('(SigV4; new at each start)')}`,
    `  ${pc.dim('driver   ')}  ${engine.driver}${engine.driver === 'process' ? pc.dim(engine.dockerAnswered ? '' : ' (no Docker engine answered)') : ''}   ${pc.dim('state')} ${rel(engine.paths.dir)}/ (dev.db, logs/, buckets/)`,
    ...(engine.subscriberNames.length
      ? [`  ${pc.dim('subscribers')} ${engine.subscriberNames.join(', ')}`]
      : []),
    ...engine.configWarnings.map((w) => `  ${pc.yellow('! cannot start')} ${w}`),
    pc.dim('  Ctrl-C stops; runs still going are recorded lost and retried on the next start.'),
  );
  return lines;
}

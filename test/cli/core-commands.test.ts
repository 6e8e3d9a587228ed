import { afterAll, describe, expect, it } from 'vitest';
import { jobFile, makeProject, removeProject, validJob } from '../loader/tmpProject.js';
import { runBerth, runBerthAsync } from './runCli.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) removeProject(root);
});

describe('berth list', () => {
  it('--json: jobs, triggers and the next fire time, in the documented shape', () => {
    const run = runBerth(['list', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout);
    expect(rows).toEqual([
      {
        name: 'email-sender',
        file: 'jobs/email-sender.ts',
        description: 'Send queued emails with a worker fleet sized by the backlog',
        triggers: [{ kind: 'queue', id: 'queue', description: '0–10 workers polling its own queue' }],
        nextFireAt: null,
      },
      {
        name: 'nightly-report',
        file: 'jobs/nightly-report.ts',
        description: "Build yesterday's sales report at 02:00 in Seoul",
        triggers: [{ kind: 'schedule', id: 'schedule-0', description: 'at 02:00 every day (Asia/Seoul)' }],
        nextFireAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T02:00:00\+09:00$/),
      },
      {
        name: 'order-worker',
        file: 'jobs/order-worker.ts',
        description: 'Fulfil one order per queue message',
        triggers: [{ kind: 'queue', id: 'queue', description: 'per message on its own queue' }],
        nextFireAt: null,
      },
      {
        name: 'thumbnail',
        file: 'jobs/thumbnail.ts',
        description: 'Resize every .jpg uploaded to uploads/images/ into a thumbnail',
        triggers: [
          { kind: 's3', id: 's3-0', description: 'when a .jpg object lands in s3://uploads/images/' },
        ],
        nextFireAt: null,
      },
    ]);
    const next = Date.parse(rows[1].nextFireAt);
    expect(next).toBeGreaterThan(Date.now());
    expect(next - Date.now()).toBeLessThanOrEqual(86_400_000);
  });

  it('prints a manual-only job and its description for people', () => {
    const root = makeProject('cli-list', {
      'jobs/by-hand.ts': jobFile(validJob('by-hand', { description: 'Run me' })),
    });
    roots.push(root);
    const run = runBerth(['list', '-C', root]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('by-hand  jobs/by-hand.ts\n  Run me\n  manual invoke only\n');
  });
});

describe('berth schedule', () => {
  it('nightly-report --count 3 --json prints three 02:00 +09:00 times a day apart', () => {
    const run = runBerth(['schedule', 'nightly-report', '--count', '3', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout) as { fireAt: string }[];
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toEqual({
        scheduleId: 'schedule-0',
        expression: 'cron(0 2 * * ? *)',
        timezone: 'Asia/Seoul',
        fireAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T02:00:00\+09:00$/),
      });
    }
    const times = rows.map((r) => Date.parse(r.fireAt));
    expect(times[1]! - times[0]!).toBe(86_400_000);
    expect(times[2]! - times[1]!).toBe(86_400_000);
  });

  it('--from starts after the given instant, across a year boundary', () => {
    const run = runBerth([
      'schedule',
      'nightly-report',
      '-n',
      '3',
      '--from',
      '2026-12-31T16:00:00Z',
      '--json',
    ]);
    expect(JSON.parse(run.stdout).map((r: { fireAt: string }) => r.fireAt)).toEqual([
      '2027-01-01T02:00:00+09:00',
      '2027-01-02T02:00:00+09:00',
      '2027-01-03T02:00:00+09:00',
    ]);
  });

  it('prints one line per fire time for people', () => {
    const run = runBerth(['schedule', 'nightly-report', '--count', '2', '--from', '2026-06-01T00:00:00Z']);
    expect(run.stdout).toBe(
      '2026-06-02T02:00:00+09:00  cron(0 2 * * ? *) (Asia/Seoul)\n2026-06-03T02:00:00+09:00  cron(0 2 * * ? *) (Asia/Seoul)\n',
    );
  });

  it('merges several schedules of one job in time order', () => {
    const root = makeProject('cli-schedule', {
      'jobs/twice.ts': jobFile(
        validJob('twice', {
          trigger: {
            schedule: [
              { expression: 'cron(0 9 * * ? *)', timezone: 'Europe/Berlin' },
              { expression: 'cron(30 8 * * ? *)', timezone: 'UTC' },
            ],
          },
        }),
      ),
    });
    roots.push(root);
    const run = runBerth([
      'schedule',
      'twice',
      '-n',
      '4',
      '--from',
      '2026-01-10T00:00:00Z',
      '--json',
      '-C',
      root,
    ]);
    expect(run.code).toBe(0);
    expect(
      JSON.parse(run.stdout).map(
        (r: { scheduleId: string; fireAt: string }) => `${r.scheduleId} ${r.fireAt}`,
      ),
    ).toEqual([
      'schedule-0 2026-01-10T09:00:00+01:00',
      'schedule-1 2026-01-10T08:30:00+00:00',
      'schedule-0 2026-01-11T09:00:00+01:00',
      'schedule-1 2026-01-11T08:30:00+00:00',
    ]);
  });

  it.each([
    [
      ['schedule', 'thumbnail'],
      "✖ jobs/thumbnail.ts: trigger.schedule: job 'thumbnail' has no schedule — add trigger.schedule or use berth invoke\n",
    ],
    [
      ['schedule', 'nope'],
      '✖ nope: no such job — known jobs: email-sender, nightly-report, order-worker, thumbnail; run berth list\n',
    ],
    [
      ['schedule', 'nightly-report', '--count', '0'],
      '✖ --count: "0" is not a whole number from 1 to 1000 — write --count 3\n',
    ],
    [
      ['schedule', 'nightly-report', '--from', 'tomorrow'],
      '✖ --from: "tomorrow" is not an ISO-8601 instant — write --from 2026-12-01T00:00:00Z\n',
    ],
  ])('berth %j fails with a fix', (args, stderr) => {
    const run = runBerth(args);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(stderr);
  });
});

/** Help text with commander's line wrapping undone. */
function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}

/** Command names listed under "Commands:" in a help text (without commander's own `help`). */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

describe('--help', () => {
  it('works on every command and subcommand', async () => {
    const top = runBerth(['--help']);
    expect(top.code).toBe(0);
    const pending = commandsIn(top.stdout).map((c) => [c]);
    expect(pending.map((p) => p[0])).toEqual(expect.arrayContaining(['list', 'schedule', 'validate']));
    const seen: string[] = [];
    while (pending.length > 0) {
      const batch = pending.splice(0);
      const runs = await Promise.all(batch.map((path) => runBerthAsync([...path, '--help'])));
      runs.forEach((run, i) => {
        const path = batch[i]!;
        expect(run.stderr, path.join(' ')).toBe('');
        expect(run.code, path.join(' ')).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^Usage: berth ${path.join(' ')}( |$)`, 'm'));
        seen.push(path.join(' '));
        for (const sub of commandsIn(run.stdout)) pending.push([...path, sub]);
      });
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });

  it('documents the --json shapes of list and schedule', () => {
    expect(flat(runBerth(['list', '--help']).stdout)).toContain(
      '[{ name, file, description, triggers: [{ kind, id, description }], nextFireAt }]',
    );
    expect(flat(runBerth(['schedule', '--help']).stdout)).toContain(
      '[{ scheduleId, expression, timezone, fireAt }]',
    );
  });
});

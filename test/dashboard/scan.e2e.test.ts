/**
 * The dashboard people scan, in Debian's chromium: the jobs table and a job page with plots at desktop
 * (1280 px) and phone (390 px) widths, checked by layout facts (no horizontal overflow, rows and plots
 * visible, image names wrapped only at `/` and `:`), and the accessibility basics (every plot has a text
 * alternative, the table is a real table with headers, the keyboard reaches every action). Also: Cancel asks
 * first, a replayed dead-lettered run loses its badge and Redrive, stderr and berth's own log lines stand
 * apart, and an AWS attempt's stop reason shows as a `berth:` line.
 *
 * Screenshots go to test-results/dashboard/; with BERTH_UPDATE_SCREENSHOTS=1 also to docs/ (the README's).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runtime/ports.js';
import type { FakeEngine } from './fakeEngine.js';
import { makeAttempt, makeRun } from './fakeEngine.js';
import { CHROMIUM, type Harness, launchChromium, startHarness } from './harness.js';
import { SCAN_NOW, seedScanEngine } from './scanSeed.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SHOTS = join(ROOT, 'test-results', 'dashboard');
const DOCS = join(ROOT, 'docs');
const UPDATE = process.env.BERTH_UPDATE_SCREENSHOTS === '1';
const logDir = join(ROOT, '.tmp', `dashboard-scan-${process.pid}`);

const WIDTHS = { desktop: 1280, phone: 390 } as const;
type Width = keyof typeof WIDTHS;

let engine: FakeEngine;
let h: Harness;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  engine = seedScanEngine(logDir);
  h = await startHarness(engine, { token: 'scan-token', now: () => SCAN_NOW });
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  rmSync(logDir, { recursive: true, force: true });
});

async function open(width: Width, path: string): Promise<Page> {
  const page = await browser.newPage({
    viewport: { width: WIDTHS[width], height: width === 'phone' ? 844 : 900 },
    deviceScaleFactor: width === 'phone' ? 2 : 1,
    colorScheme: 'light',
    timezoneId: 'UTC',
  });
  // The page's clock is the seed's, so relative times read the same as the server wrote them.
  await page.clock.setFixedTime(SCAN_NOW);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(`${h.base}${path}`);
  await page.waitForSelector('#live-state[data-state="live"]');
  return page;
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  if (UPDATE) await page.screenshot({ path: join(DOCS, `${name}.png`), fullPage: true });
}

/** How far the page reaches past the viewport's right edge (0 when nothing overflows). */
function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

describe.each(Object.keys(WIDTHS) as Width[])('at %s width', (width) => {
  it('the jobs table: every job a visible row, nothing overflows sideways', async () => {
    const page = await open(width, '/');
    try {
      expect(await horizontalOverflow(page)).toBe(0);
      const rows = page.locator('table.jobs tbody tr');
      expect(await rows.count()).toBe(4);
      for (const row of await rows.all()) {
        expect(await row.isVisible()).toBe(true);
        const box = await row.boundingBox();
        expect(box?.width ?? 0).toBeGreaterThan(300);
        expect((box?.x ?? -1) + (box?.width ?? 0)).toBeLessThanOrEqual(WIDTHS[width]);
      }
      // The strip of the busy job shows its last 20 runs, each mark visible.
      const marks = page.locator('#job-thumbnail .strip .mark');
      expect(await marks.count()).toBe(20);
      const mark = await marks.first().boundingBox();
      expect(mark?.height ?? 0).toBeGreaterThan(4);
      // The numbers a person scans for are on screen.
      const report = page.locator('#job-nightly-report');
      expect(await report.locator('[data-stat="success-rate"]').textContent()).toBe('85.7%12 of 14');
      expect(await report.locator('td.when').textContent()).toContain('in 5 h');
      await shoot(page, width === 'desktop' ? 'dashboard-jobs' : 'dashboard-jobs-phone');
    } finally {
      await page.close();
    }
  });

  it('a job page: three plots, visible and sized, nothing overflows sideways, the image wraps at / and : only', async () => {
    const page = await open(width, '/jobs/invoice-pdf');
    try {
      expect(await horizontalOverflow(page)).toBe(0);
      const plots = page.locator('figure.plot svg[role="img"]');
      expect(await plots.count()).toBe(3);
      for (const svg of await plots.all()) {
        await svg.scrollIntoViewIfNeeded();
        expect(await svg.isVisible()).toBe(true);
        const box = await svg.boundingBox();
        expect(box?.height ?? 0).toBeGreaterThan(80);
        expect(box?.width ?? 0).toBeGreaterThan(width === 'phone' ? 300 : 250);
      }
      // Every bar and dot is inside its plot.
      expect(await page.locator('figure.plot .dot').count()).toBe(7);
      expect(await page.locator('figure.plot rect.bad').count()).toBe(2);
      // The long ECR image name: each part on one line, broken only between parts.
      const image = page.locator('.flow code.image');
      const parts = await image
        .locator('span')
        .evaluateAll((spans) =>
          spans.map((s) => ({ text: s.textContent ?? '', lines: s.getClientRects().length })),
        );
      expect(parts.map((p) => p.text).join('')).toContain('amazonaws.com/platform-team/');
      for (const p of parts) expect(p.lines, p.text).toBe(1);
      const fits = await image.evaluate((el) => el.scrollWidth <= el.clientWidth + 1);
      expect(fits).toBe(true);
      if (width === 'phone') {
        const tops = await image
          .locator('span')
          .evaluateAll((spans) => spans.map((s) => Math.round(s.getBoundingClientRect().top)));
        expect(new Set(tops).size, 'the name wraps on a phone').toBeGreaterThan(1);
      }
      // The busiest job's page is the picture: two weeks of runs in each plot.
      await page.goto(`${h.base}/jobs/thumbnail`);
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await page.locator('figure.plot svg[role="img"]').count()).toBe(3);
      expect(await page.locator('#job-thumbnail-outcomes rect').count()).toBeGreaterThan(14);
      // More runs than the cost plot prices: it says which days it leaves out, and greys them.
      expect(await page.locator('#job-thumbnail-cost figcaption').textContent()).toMatch(
        /priced from the newest 100 runs, so the \d+ earlier days? before them (is|are) not counted\.$/,
      );
      expect(await page.locator('#job-thumbnail-cost rect.uncounted').count()).toBeGreaterThan(0);
      await shoot(page, width === 'desktop' ? 'dashboard-job' : 'dashboard-job-phone');
    } finally {
      await page.close();
    }
  });
});

describe('accessibility basics', () => {
  it('every plot has a text alternative: a name, a caption and a data table with headers', async () => {
    const page = await open('desktop', '/jobs/nightly-report');
    try {
      for (const figure of await page.locator('figure.plot').all()) {
        const svg = figure.locator('svg');
        expect(await svg.getAttribute('role')).toBe('img');
        const name = await svg.evaluate((el) => {
          const ids = (el.getAttribute('aria-labelledby') ?? '').split(' ');
          return ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
        });
        expect(name.length).toBeGreaterThan(30);
        expect(((await figure.locator('figcaption').textContent()) ?? '').length).toBeGreaterThan(20);
        const table = figure.locator('details.plot-data table');
        expect(await table.locator('thead th[scope="col"]').count()).toBeGreaterThanOrEqual(2);
        expect(await table.locator('tbody tr').count()).toBeGreaterThan(0);
      }
      const outcomes = page.locator('#job-nightly-report-outcomes');
      expect(await outcomes.locator('figcaption').textContent()).toMatch(
        /^14 days: 11 succeeded, 2 failed, 0 cancelled; most failures on Nov 16 \(1\)\./,
      );
      // The durations plot's name counts the runs in words a screen reader reads out.
      expect(await page.locator('#job-nightly-report-durations-title').textContent()).toMatch(
        /^Run durations of nightly-report over the last 14 days: 13 runs ended in the last 14 days; median \d+m\d+s, longest \d+m\d+s\.$/,
      );
    } finally {
      await page.close();
    }
  });

  it('the jobs table is a real table: a caption, column headers, a row header per job', async () => {
    const page = await open('desktop', '/');
    try {
      const table = page.getByRole('table', { name: /^Jobs, one row each/ });
      expect(await table.count()).toBe(1);
      const headers = await table.getByRole('columnheader').allInnerTexts();
      expect(headers.map((t) => t.trim().toLowerCase())).toEqual([
        'job',
        'trigger',
        'last 20 runs',
        'success',
        'p50',
        'p95',
        'next fire',
        'queue',
      ]);
      expect(await table.getByRole('rowheader').count()).toBe(4);
      const strip = table.getByRole('img', { name: /^Last 20 runs of thumbnail, oldest first: / });
      expect(await strip.count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  /** Tabs through the page; returns the focusable elements never reached and how many showed a focus ring. */
  async function tabThrough(page: Page): Promise<{ missed: string[]; wanted: number; outlined: number }> {
    const wanted = await page.evaluate(() =>
      Array.from(
        document.querySelectorAll('a[href], button, textarea, input, select, summary, [tabindex="0"]'),
      )
        .filter((el) => !(el as HTMLElement).closest('[hidden]'))
        .map((el, i) => {
          (el as HTMLElement).dataset.tabProbe = String(i);
          return `${el.tagName.toLowerCase()} ${(el.textContent ?? '').trim().slice(0, 40)}`;
        }),
    );
    const reached = new Set<number>();
    let outlined = 0;
    for (let i = 0; i < wanted.length + 5; i++) {
      await page.keyboard.press('Tab');
      const probe = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return null;
        return { id: el.dataset.tabProbe, outline: getComputedStyle(el).outlineStyle !== 'none' };
      });
      if (probe?.id !== undefined) reached.add(Number(probe.id));
      if (probe?.outline) outlined++;
    }
    return { missed: wanted.filter((_, i) => !reached.has(i)), wanted: wanted.length, outlined };
  }

  it('the keyboard reaches every link and action, with a visible focus, on the jobs, job and run pages', async () => {
    const dead = [...engine.runs.values()].find((r) => r.job === 'invoice-pdf' && r.deadLettered);
    for (const path of ['/', '/jobs/thumbnail', `/runs/${dead?.runId}`]) {
      const page = await open('desktop', path);
      try {
        const { missed, wanted, outlined } = await tabThrough(page);
        expect(missed, path).toEqual([]);
        expect(outlined, path).toBeGreaterThan(wanted / 2);
      } finally {
        await page.close();
      }
    }
  });

  it('Run now works by keyboard alone', async () => {
    const page = await open('desktop', '/jobs/nightly-report');
    try {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
        if (focused === 'Run now') break;
      }
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Run now');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#announce').textContent()).toContain('Run accepted:');
      expect(engine.calls.filter((c) => c.method === 'invoke').at(-1)?.args[0]).toBe('nightly-report');
    } finally {
      await page.close();
    }
  });
});

describe('run actions and logs', () => {
  function runOf(job: string, pick: (r: RunRecord) => boolean): RunRecord {
    const run = [...engine.runs.values()].find((r) => r.job === job && pick(r));
    if (!run) throw new Error(`no such run of ${job}`);
    return run;
  }

  it('Cancel asks first: dismissed, nothing happens; confirmed, the run is cancelled', async () => {
    const running = runOf('thumbnail', (r) => r.status === 'running');
    const page = await open('desktop', `/runs/${running.runId}`);
    try {
      const dialogs: string[] = [];
      page.once('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => page.locator('#announce').textContent()).toContain('Nothing was done.');
      expect(dialogs[0]).toMatch(/^Cancel run \S+ of thumbnail\? A running task is sent SIGTERM/);
      expect(engine.calls.filter((c) => c.method === 'cancel')).toHaveLength(0);
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => engine.calls.filter((c) => c.method === 'cancel').length).toBe(1);
      await expect.poll(() => page.locator('#announce').textContent()).toContain('Cancelling run');
    } finally {
      await page.close();
    }
  });

  it('a dead-lettered run keeps its badge and Redrive until a run replays it', async () => {
    const replayed = runOf('thumbnail', (r) => r.deadLettered);
    const waiting = runOf('invoice-pdf', (r) => r.deadLettered);
    const page = await open('desktop', `/runs/${replayed.runId}`);
    try {
      expect(await page.locator('#run-live .badge.dead').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Redrive from dead letters' }).count()).toBe(0);
      expect(await page.locator('[data-field="replayed-as"] a').count()).toBe(1);
      await page.goto(`${h.base}/runs/${waiting.runId}`);
      expect(await page.locator('#run-live .badge.dead').count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Redrive from dead letters' }).count()).toBe(1);
      await page.goto(`${h.base}/runs?status=failed`);
      expect(await page.locator(`#run-${waiting.runId} .badge.dead`).count()).toBe(1);
      expect(await page.locator(`#run-${replayed.runId} .badge.dead`).count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('stderr lines stand apart from stdout; berth lines and an AWS stop reason read as berth', async () => {
    const run = engine.put(
      makeRun({
        job: 'invoice-pdf',
        status: 'cancelled',
        attempt: 1,
        createdAt: '2026-11-26T11:00:00.000Z',
        endedAt: '2026-11-26T11:01:00.000Z',
      }),
    );
    engine.attempts.set(run.runId, [
      makeAttempt({
        runId: run.runId,
        attempt: 1,
        capacity: 'FARGATE',
        outcome: 'cancelled',
        stopCode: 'UserInitiated',
        reason: 'berth: cancelled from the console',
      }),
    ]);
    const original = engine.readLog.bind(engine);
    // The first read returns the lines; a read on from its cursor finds nothing more.
    engine.readLog = async (_runId, _attempt, options) => ({
      lines: options?.offset
        ? []
        : [
            { stream: 'stdout' as const, text: 'rendering 12 invoices' },
            { stream: 'stderr' as const, text: 'warning: font Inter missing, using a fallback' },
            { stream: 'stdout' as const, text: 'invoice 1 done' },
          ],
      next: 'end',
      more: false,
      truncated: false,
      exists: true,
      partial: false,
      reset: false,
    });
    const page = await open('desktop', `/runs/${run.runId}`);
    try {
      const stdout = page.locator('pre[data-log] .ln[data-stream="stdout"]').first();
      const stderr = page.locator('pre[data-log] .ln[data-stream="stderr"]');
      expect(await stderr.textContent()).toBe('warning: font Inter missing, using a fallback');
      const look = (el: typeof stderr) =>
        el.evaluate((e) => {
          const s = getComputedStyle(e);
          return `${s.color}|${s.boxShadow}|${s.backgroundColor}`;
        });
      expect(await look(stderr)).not.toBe(await look(stdout));
      const stop = page.locator('.log-stop .ln[data-stream="berth"]');
      expect(await stop.textContent()).toBe(
        'berth: ECS sent SIGTERM (UserInitiated: berth: cancelled from the console)',
      );
      expect(await stop.evaluate((e) => getComputedStyle(e).fontStyle)).toBe('italic');
    } finally {
      engine.readLog = original;
      await page.close();
    }
  });

  it('made no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

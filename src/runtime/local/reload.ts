/**
 * Reload on change: `berth dev` watches the jobs folder and `subscribers/`, and a save takes effect without a
 * restart. Each change (debounced) loads and validates every file again:
 * - a valid edit, a new file or a removed file replaces the job set for new runs (attempts already running
 *   finish as they started);
 * - a file with a problem keeps its last good version (a new file with a problem adds nothing) and the
 *   problem is reported (terminal, dashboard banner, `/api/health`) until a later save fixes it;
 * - subscribers likewise: a set that fails to load keeps the last good set and reports the error.
 */
import { relative, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { formatJobIssue, type JobIssue } from '../../core/errors.js';
import type { Job } from '../../core/model/job.js';
import { findDuplicateNames } from '../../core/model/validate.js';
import type { LoadResult } from '../../loader/loadJobs.js';

/** Quiet time after the last file event before reloading (editors write a file in several steps). */
export const RELOAD_DEBOUNCE_MS = 150;

/** A problem that keeps a file's last good version in use, shown until a save fixes it. */
export interface LoadProblem {
  /** `jobs` or `subscribers`. */
  kind: 'jobs' | 'subscribers';
  /** Project-relative file, when the problem belongs to one. */
  file?: string;
  /** `file: path: problem — fix` (a build error adds its code frame on the lines after). */
  message: string;
}

export interface JobChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

/**
 * The job set after a reload: every valid job, plus the last good version of each job whose file now has a
 * problem. When merging would give two jobs one name, the previous set stays whole.
 */
export function mergeJobs(
  previous: readonly Job[],
  result: Pick<LoadResult, 'jobs' | 'issues'>,
): { jobs: Job[]; problems: JobIssue[] } {
  const problems = result.issues;
  if (problems.length === 0) return { jobs: [...result.jobs], problems };
  const broken = new Set(problems.map((i) => i.file));
  const merged = [
    ...result.jobs.filter((j) => !broken.has(j.file)),
    ...previous.filter((j) => broken.has(j.file)),
  ];
  if (findDuplicateNames(merged).length > 0) return { jobs: [...previous], problems };
  return { jobs: merged, problems };
}

/** Which jobs a new set adds, removes and changes, by name. */
export function diffJobs(previous: readonly Job[], next: readonly Job[]): JobChanges {
  const before = new Map(previous.map((j) => [j.name, JSON.stringify(j)]));
  const after = new Map(next.map((j) => [j.name, JSON.stringify(j)]));
  return {
    added: [...after.keys()].filter((n) => !before.has(n)),
    removed: [...before.keys()].filter((n) => !after.has(n)),
    changed: [...after.entries()].filter(([n, s]) => before.has(n) && before.get(n) !== s).map(([n]) => n),
  };
}

export interface ReloaderOptions<S> {
  root: string;
  jobsDir: string;
  subscribersDir: string;
  /** Loads every job file again (fresh modules each time). */
  loadJobs: () => Promise<LoadResult>;
  /** Loads every subscriber again; throws on a problem. */
  loadSubscribers: () => Promise<S>;
  /** The jobs in use now. */
  current: () => readonly Job[];
  /** Puts a new job set in use. */
  applyJobs: (jobs: Job[], changes: JobChanges) => Promise<void>;
  applySubscribers: (subscribers: S) => void;
  log: (line: string) => void;
  /** Called whenever the reported problems change. */
  onProblems?: (problems: readonly LoadProblem[]) => void;
  debounceMs?: number;
}

export class Reloader<S> {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private jobProblems: LoadProblem[] = [];
  private subscriberProblems: LoadProblem[] = [];
  private subscribersTouched = false;
  private jobsTouched = false;

  constructor(private readonly options: ReloaderOptions<S>) {}

  /** The problems keeping a last good version in use now. */
  problems(): LoadProblem[] {
    return [...this.jobProblems, ...this.subscriberProblems];
  }

  async start(): Promise<void> {
    const { root, jobsDir, subscribersDir } = this.options;
    const tops = new Set([jobsDir.split(/[\\/]/)[0], subscribersDir.split(/[\\/]/)[0]]);
    // The project root, pruned to the jobs and subscribers folders: one created later is seen too.
    this.watcher = watch(root, {
      ignoreInitial: true,
      ignored: (path: string) => {
        const rel = relative(root, path);
        if (rel === '' || rel.startsWith('..')) return false;
        const parts = rel.split(sep);
        return !tops.has(parts[0]) || parts.some((p) => p === 'node_modules' || p.startsWith('.'));
      },
    });
    this.watcher.on('all', (_event, path) => this.touched(path));
    this.watcher.on('error', (e) => this.options.log(`✖ file watcher: ${(e as Error).message}`));
    await new Promise<void>((r) => this.watcher?.once('ready', () => r()));
  }

  private touched(path: string): void {
    if (this.stopped) return;
    const rel = relative(this.options.root, path);
    if (rel.split(sep).some((p) => p === 'node_modules' || p.startsWith('.'))) return;
    if (rel === this.options.subscribersDir || rel.startsWith(`${this.options.subscribersDir}${sep}`))
      this.subscribersTouched = true;
    else this.jobsTouched = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.options.debounceMs ?? RELOAD_DEBOUNCE_MS);
  }

  /** Reloads now (what a file event does after the debounce). Resolves when the reload is applied. */
  async reload(what: { jobs?: boolean; subscribers?: boolean } = {}): Promise<void> {
    if (what.jobs) this.jobsTouched = true;
    if (what.subscribers) this.subscribersTouched = true;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          const jobs = this.jobsTouched;
          const subscribers = this.subscribersTouched;
          this.jobsTouched = false;
          this.subscribersTouched = false;
          if (jobs) await this.reloadJobs();
          if (subscribers) await this.reloadSubscribers();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private setProblems(kind: LoadProblem['kind'], problems: LoadProblem[]): void {
    const before = kind === 'jobs' ? this.jobProblems : this.subscriberProblems;
    const same = JSON.stringify(before) === JSON.stringify(problems);
    if (kind === 'jobs') this.jobProblems = problems;
    else this.subscriberProblems = problems;
    if (same) return;
    if (problems.length === 0 && before.length > 0)
      this.options.log(`✓ ${kind}: fixed, every file loads again`);
    for (const p of problems) {
      // A build error's code frame follows its line, indented.
      const [first, ...frame] = p.message.split('\n');
      this.options.log(
        [`✖ ${first} (keeping the last good version)`, ...frame.map((l) => `  ${l}`)].join('\n'),
      );
    }
    this.options.onProblems?.(this.problems());
  }

  private async reloadJobs(): Promise<void> {
    let result: LoadResult;
    try {
      result = await this.options.loadJobs();
    } catch (error) {
      this.setProblems('jobs', [{ kind: 'jobs', message: (error as Error).message }]);
      return;
    }
    if (this.stopped) return;
    const previous = this.options.current();
    const { jobs, problems } = mergeJobs(previous, result);
    const changes = diffJobs(previous, jobs);
    if (changes.added.length + changes.removed.length + changes.changed.length > 0) {
      await this.options.applyJobs(
        [...jobs].sort((a, b) => a.name.localeCompare(b.name)),
        changes,
      );
      const parts = [
        changes.changed.length ? `changed ${changes.changed.join(', ')}` : '',
        changes.added.length ? `added ${changes.added.join(', ')}` : '',
        changes.removed.length ? `removed ${changes.removed.join(', ')}` : '',
      ].filter(Boolean);
      this.options.log(`↻ jobs reloaded: ${parts.join('; ')}`);
    }
    this.setProblems(
      'jobs',
      problems.map((i) => ({ kind: 'jobs', file: i.file, message: formatJobIssue(i) })),
    );
  }

  private async reloadSubscribers(): Promise<void> {
    try {
      const loaded = await this.options.loadSubscribers();
      if (this.stopped) return;
      this.options.applySubscribers(loaded);
      this.options.log('↻ subscribers reloaded');
      this.setProblems('subscribers', []);
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      const file = /^(subscribers\/[^:]+):/.exec(message)?.[1];
      this.setProblems('subscribers', [{ kind: 'subscribers', ...(file ? { file } : {}), message }]);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.watcher?.close();
    await this.running;
  }
}

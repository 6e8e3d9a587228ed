/** Base class of every error berth raises on purpose. */
export class BerthError extends Error {
  override name = 'BerthError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * How bad a problem is. An `error` stops `validate`/`synth`/`deploy` (exit 1); a `warning` is something AWS
 * accepts but that cannot be what the user meant (an `at()` in the past): printed after the errors with its own
 * mark, exit 0 unless `berth validate --strict`.
 */
export type Severity = 'error' | 'warning';

/**
 * One problem with one field of one job file, in the form the CLI prints:
 * `jobs/<file>.ts: <field path>: <what is wrong> — <how to fix>`.
 */
export interface JobIssue {
  /** Path of the job file relative to the project root, or `<inline>`. */
  file: string;
  /** Dotted field path (`task.cpu`, `trigger.schedule.expression`), or `(file)` for the file itself. */
  path: string;
  /** What is wrong. */
  problem: string;
  /** How to fix it. */
  fix: string;
  /** @default 'error' */
  severity?: Severity;
}

/** The issue's severity (`error` when it does not say). */
export function severityOf(issue: JobIssue): Severity {
  return issue.severity ?? 'error';
}

export function isWarning(issue: JobIssue): boolean {
  return severityOf(issue) === 'warning';
}

/** The issues that stop a command (every issue without `severity: 'warning'`). */
export function errorsOf(issues: readonly JobIssue[]): JobIssue[] {
  return issues.filter((i) => !isWarning(i));
}

export function warningsOf(issues: readonly JobIssue[]): JobIssue[] {
  return issues.filter(isWarning);
}

/** One problem as `berth validate --json` prints it. */
export interface ProblemJson {
  file: string;
  /** The field path (`task.cpu`), or `(file)` for the file itself. */
  field: string;
  severity: Severity;
  message: string;
  fix: string;
}

export function problemJson(issue: JobIssue): ProblemJson {
  return {
    file: issue.file,
    field: issue.path,
    severity: severityOf(issue),
    message: issue.problem,
    fix: issue.fix,
  };
}

export function formatJobIssue(issue: JobIssue): string {
  return `${issue.file}: ${issue.path}: ${issue.problem} — ${issue.fix}`;
}

/**
 * Raised when one or more job definitions are invalid. Carries every issue found, from every file (warnings
 * too, when the caller passes them: the message lists the errors first, then the warnings).
 */
export class JobValidationError extends BerthError {
  override name = 'JobValidationError';
  readonly issues: JobIssue[];
  constructor(issues: JobIssue[]) {
    const ordered = [...errorsOf(issues), ...warningsOf(issues)];
    super(ordered.map(formatJobIssue).join('\n'));
    this.issues = ordered;
  }
}

/** Splits a message of the form `problem — fix` (the convention of every berth schema message). */
export function splitProblemFix(message: string, defaultFix: string): { problem: string; fix: string } {
  const at = message.indexOf(' — ');
  if (at === -1) return { problem: message, fix: defaultFix };
  return { problem: message.slice(0, at), fix: message.slice(at + 3) };
}

/** Base class of every error berth raises on purpose. */
export class BerthError extends Error {
  override name = 'BerthError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

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
}

export function formatJobIssue(issue: JobIssue): string {
  return `${issue.file}: ${issue.path}: ${issue.problem} — ${issue.fix}`;
}

/** Raised when one or more job definitions are invalid. Carries every issue found, from every file. */
export class JobValidationError extends BerthError {
  override name = 'JobValidationError';
  readonly issues: JobIssue[];
  constructor(issues: JobIssue[]) {
    super(issues.map(formatJobIssue).join('\n'));
    this.issues = issues;
  }
}

/** Splits a message of the form `problem — fix` (the convention of every berth schema message). */
export function splitProblemFix(message: string, defaultFix: string): { problem: string; fix: string } {
  const at = message.indexOf(' — ');
  if (at === -1) return { problem: message, fix: defaultFix };
  return { problem: message.slice(0, at), fix: message.slice(at + 3) };
}

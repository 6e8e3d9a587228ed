import pc from 'picocolors';
import { BerthError, JobValidationError } from '../core/errors.js';

/** Raised for a problem the user can fix; printed without a stack. */
export class CliError extends BerthError {
  override name = 'CliError';
}

/** Prints an error the CLI way (stderr, `path: field: what is wrong — how to fix`) and returns exit code 1. */
export function reportError(error: unknown): number {
  if (error instanceof JobValidationError) {
    // One mark per problem; an indented line continues the problem above it (a build error's code frame).
    for (const line of error.message.split('\n'))
      process.stderr.write(line.startsWith(' ') ? `  ${line}\n` : `${pc.red('✖')} ${line}\n`);
    process.stderr.write(`${error.issues.length} problem${error.issues.length === 1 ? '' : 's'} found\n`);
    return 1;
  }
  if (error instanceof BerthError) {
    process.stderr.write(`${pc.red('✖')} ${error.message}\n`);
    return 1;
  }
  const err = error as Error;
  process.stderr.write(`${pc.red('✖')} ${err?.stack ?? String(error)}\n`);
  return 1;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

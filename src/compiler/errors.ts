import { BerthError } from '../core/errors.js';

/** A problem compiling the jobs into a stack, with the fix in the message. */
export class CompileError extends BerthError {
  override name = 'CompileError';
}

/** The template would exceed a CloudFormation quota. */
export class ResourceBudgetError extends CompileError {
  override name = 'ResourceBudgetError';
  constructor(
    message: string,
    readonly resourceCount: number,
    readonly templateBytes: number,
  ) {
    super(message);
  }
}

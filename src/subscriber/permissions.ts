/**
 * The check of a subscriber's `permissions` against the job schema's IAM statement shape. Kept out of
 * `src/subscriber/index.ts` (what `import 'berth'` and every subscriber Lambda load) because it needs zod:
 * the loader runs it for each subscriber file, so a bad statement is still reported with the file, the field
 * and the fix, before anything compiles or runs.
 */
import { permissionSchema } from '../core/model/task.js';
import { issuesFromZod } from '../core/model/validate.js';
import type { SubscriberPermission } from './index.js';

/** The problems of `permissions`, one `permissions[i].field: problem — fix` line each; empty when valid. */
export function permissionProblems(permissions: readonly SubscriberPermission[] | undefined): string[] {
  const out: string[] = [];
  for (const [i, p] of (permissions ?? []).entries()) {
    const parsed = permissionSchema.safeParse(p);
    if (parsed.success) continue;
    for (const issue of issuesFromZod(parsed.error, '', p))
      out.push(
        `permissions[${i}]${issue.path === '(job)' ? '' : `.${issue.path}`}: ${issue.problem} — ${issue.fix}`,
      );
  }
  return out;
}

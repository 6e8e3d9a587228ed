/**
 * Each berth Lambda's policy, derived from its code: the SDK commands the code reachable from the handler
 * can send, mapped to the IAM actions they need, must equal the actions its role allows. Both ways: a grant
 * no code uses fails, and a command the policy does not cover fails.
 *
 * Reachability is by name over the TypeScript sources the handler imports (not type-only): from the handler,
 * every function, method or object property whose name is called or referenced is followed. Code is
 * attributed to its innermost named unit, so a factory that builds a client call (`storePayload:
 * s3PayloadStore(…)`) counts only where `storePayload` is called. Names over-approximate (every method of that
 * name), which can only add actions: a policy that passes this test covers every path.
 */
import { describe, expect, it } from 'vitest';
import { lambdaStatements } from '../../src/compiler/iam.js';
import { BERTH_FUNCTIONS, type BerthFunctionKind } from '../../src/compiler/naming.js';
import {
  actionsFromCode as actionsFrom,
  COMMAND_ACTIONS,
  TRANSACT_ITEM_ACTIONS,
} from '../helpers/sdkActions.js';
import { context, job } from './helpers.js';

/** What AWS needs without a call in the code: Lambda's own logs, and the launcher's SQS event source mappings. */
const IMPLIED: Record<BerthFunctionKind, string[]> = {
  launcher: [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
  ],
  interceptor: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  sweeper: ['logs:CreateLogStream', 'logs:PutLogEvents'],
};

/** The IAM actions the code reachable from a handler needs. */
function actionsFromCode(fn: BerthFunctionKind) {
  return actionsFrom(`src/handlers/${fn}.ts`, 'handler', IMPLIED[fn]);
}

function policyActions(fn: BerthFunctionKind): Set<string> {
  const jobs = [
    job({ name: 'orders', trigger: { queue: {} } }),
    job({ name: 'thumb', trigger: { s3: { bucket: 'uploads' } } }),
  ];
  return new Set(
    lambdaStatements(fn, jobs, context())
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => s.Action),
  );
}

describe('each Lambda is allowed exactly what its code sends', () => {
  for (const fn of BERTH_FUNCTIONS) {
    it(fn, () => {
      const { actions, commands, via } = actionsFromCode(fn);
      const granted = policyActions(fn);
      const unused = [...granted].filter((a) => !actions.has(a)).sort();
      const missing = [...actions].filter((a) => !granted.has(a)).sort();
      const paths = Object.fromEntries(
        [
          ...[...commands].filter((c) => (COMMAND_ACTIONS[c] ?? []).some((a) => missing.includes(a))),
          ...missing.filter((a) => Object.values(TRANSACT_ITEM_ACTIONS).includes(a)),
        ].map((c) => [c, via(c)]),
      );
      expect({ unused, missing, paths }).toEqual({ unused: [], missing: [], paths: {} });
      // The walk really reaches the clients (a broken walk would find nothing and grant nothing).
      expect(commands.size).toBeGreaterThan(4);
    });
  }

  it('finds what each function sends, and only that', () => {
    const sweeper = actionsFromCode('sweeper').commands;
    expect(sweeper).toEqual(
      new Set([
        'StopTaskCommand',
        'DescribeTasksCommand',
        'GetCommand',
        'UpdateCommand',
        'QueryCommand',
        'TransactWriteCommand',
        'SendMessageCommand',
        'CreateScheduleCommand',
        'PutEventsCommand',
      ]),
    );
    expect(actionsFromCode('interceptor').commands.has('RunTaskCommand')).toBe(false);
    expect(actionsFromCode('launcher').commands).toContain('PutObjectCommand');
  });
});

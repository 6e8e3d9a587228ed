/**
 * The console's grants, derived from its code: the SDK commands reachable from `startConsole` (the dashboard
 * calling the AWS source, the source calling the run store, CloudWatch Logs, SQS and ECS) must be exactly what
 * `consoleStatements` allows, plus `cloudformation:DescribeStacks` (the person's policy has it to find the
 * stack's resources; the App Runner entry passes them in its environment instead).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleStatements } from '../../src/compiler/console.js';
import { context } from '../compiler/helpers.js';
import { actionsFromCode, ROOT } from '../helpers/sdkActions.js';

/**
 * Reachable by name but never taken by the console, each with the reason (the walk over-approximates: every
 * command of a reached function counts).
 */
const NOT_TAKEN: Record<string, string> = {
  // DynamoRunStore.transition puts a retry's event entry in a transaction only when given `retryEvent`;
  // the console's cancel (the one transition it makes) passes none: checked below.
  'dynamodb:PutItem': 'transition without retryEvent',
};

describe('the console is allowed exactly what its code sends', () => {
  const { actions, commands, via } = actionsFromCode('src/console/server.ts', 'startConsole');
  const granted = new Set(consoleStatements(context()).flatMap((s) => s.Action));

  it('consoleStatements = the actions of the reachable SDK commands (less DescribeStacks)', () => {
    const needed = new Set(
      [...actions].filter((a) => a !== 'cloudformation:DescribeStacks' && !(a in NOT_TAKEN)),
    );
    const unused = [...granted].filter((a) => !needed.has(a)).sort();
    const missing = [...needed].filter((a) => !granted.has(a)).sort();
    const paths = Object.fromEntries([...commands].map((c) => [c, via(c)]));
    expect({ unused, missing }, JSON.stringify(paths, null, 1)).toEqual({ unused: [], missing: [] });
  });

  it('cancels with a plain conditional update (no retry event, so no PutItem)', () => {
    const source = readFileSync(resolve(ROOT, 'src/console/aws/actions.ts'), 'utf8');
    const cancel = source.slice(
      source.indexOf('async cancel('),
      source.indexOf('\n  }\n', source.indexOf('async cancel(')),
    );
    expect(cancel).toContain('this.store.transition(');
    expect(cancel).not.toContain('retryEvent');
  });

  it('reaches the reads and every action (a broken walk would find nothing)', () => {
    for (const c of [
      'QueryCommand',
      'GetLogEventsCommand',
      'StopTaskCommand',
      'SendMessageCommand',
      'ReceiveMessageCommand',
      'GetQueueAttributesCommand',
      'DescribeTasksCommand',
      'DescribeStacksCommand',
    ])
      expect(commands, c).toContain(c);
    // Never a task launch or a role pass: those stay with the launcher.
    expect(commands).not.toContain('RunTaskCommand');
    expect(actions).not.toContain('iam:PassRole');
  });
});

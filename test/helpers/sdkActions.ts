/**
 * The IAM actions a piece of berth's code needs, derived from the SDK commands reachable from an entry
 * function: every function, method or object property whose name is called or referenced is followed over
 * the TypeScript sources the entry imports (not type-only). Code is attributed to its innermost named unit, so
 * a factory that builds a client call (`storePayload: s3PayloadStore(…)`) counts only where `storePayload` is
 * called. Names over-approximate (every method of that name), which can only add actions: a policy that
 * matches covers every path. Used by test/compiler/iamActions.test.ts (the Lambdas) and
 * test/console/iam.test.ts (the console).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(import.meta.dirname, '../..');

/** SDK command → the IAM actions it needs. Every command berth's runtime may send must be listed here. */
export const COMMAND_ACTIONS: Record<string, string[]> = {
  RunTaskCommand: ['ecs:RunTask', 'ecs:TagResource', 'iam:PassRole'], // tags on create; task + execution roles
  StopTaskCommand: ['ecs:StopTask'],
  DescribeTasksCommand: ['ecs:DescribeTasks'],
  ListTasksCommand: ['ecs:ListTasks'],
  GetCommand: ['dynamodb:GetItem'],
  PutCommand: ['dynamodb:PutItem'],
  UpdateCommand: ['dynamodb:UpdateItem'],
  DeleteCommand: ['dynamodb:DeleteItem'],
  QueryCommand: ['dynamodb:Query'],
  ScanCommand: ['dynamodb:Scan'],
  BatchGetCommand: ['dynamodb:BatchGetItem'],
  BatchWriteCommand: ['dynamodb:BatchWriteItem'],
  TransactGetCommand: ['dynamodb:GetItem'],
  SendMessageCommand: ['sqs:SendMessage'],
  SendMessageBatchCommand: ['sqs:SendMessage'],
  ChangeMessageVisibilityCommand: ['sqs:ChangeMessageVisibility'],
  CreateScheduleCommand: ['scheduler:CreateSchedule', 'iam:PassRole'],
  DeleteScheduleCommand: ['scheduler:DeleteSchedule'],
  PutEventsCommand: ['events:PutEvents'],
  PutObjectCommand: ['s3:PutObject'],
  GetObjectCommand: ['s3:GetObject'],
  // The console's reads and redrive (src/console, src/runtime/aws/stage.ts).
  GetLogEventsCommand: ['logs:GetLogEvents'],
  DescribeTaskDefinitionCommand: ['ecs:DescribeTaskDefinition'],
  DescribeServicesCommand: ['ecs:DescribeServices'],
  ListServicesCommand: ['ecs:ListServices'],
  GetQueueAttributesCommand: ['sqs:GetQueueAttributes'],
  GetQueueUrlCommand: ['sqs:GetQueueUrl'],
  ReceiveMessageCommand: ['sqs:ReceiveMessage'],
  DeleteMessageCommand: ['sqs:DeleteMessage'],
  DeleteMessageBatchCommand: ['sqs:DeleteMessage'],
  DescribeStacksCommand: ['cloudformation:DescribeStacks'],
};
/** A transaction is authorized per item, by the item's own action. */
export const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};
interface Unit {
  name: string;
  file: string;
  commands: Set<string>;
  /** Names referenced as identifiers (functions called or passed along). */
  refs: Set<string>;
  /** Property names called (`x.method()`). */
  calls: Set<string>;
  transactItems: Set<string>;
}

/** The modules a file imports at run time (relative imports, not `import type`), transitively. */
function reachableModules(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const st of source.statements) {
      let spec: string | undefined;
      if (ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly)
        spec = (st.moduleSpecifier as ts.StringLiteral).text;
      if (ts.isExportDeclaration(st) && !st.isTypeOnly && st.moduleSpecifier)
        spec = (st.moduleSpecifier as ts.StringLiteral).text;
      if (!spec?.startsWith('.')) continue;
      if (ts.isImportDeclaration(st)) {
        const named = st.importClause?.namedBindings;
        // `import { type A, type B }` brings no code.
        if (
          !st.importClause?.name &&
          named &&
          ts.isNamedImports(named) &&
          named.elements.every((e) => e.isTypeOnly)
        )
          continue;
      }
      visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
    // `await import('./x.js')`: a module loaded on first use is reachable too.
    const dynamic = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] &&
        ts.isStringLiteral(node.arguments[0]) &&
        node.arguments[0].text.startsWith('.')
      )
        visit(resolve(dirname(file), node.arguments[0].text.replace(/\.js$/, '.ts')));
      ts.forEachChild(node, dynamic);
    };
    dynamic(source);
  };
  visit(entry);
  return [...seen];
}

function unitName(node: ts.Node): string | undefined {
  if (
    (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) &&
    node.name &&
    ts.isIdentifier(node.name)
  )
    return node.name.text;
  // A local `const x = await f()` runs where it stands: only functions, and module-level values, are units.
  if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
    const init = node.initializer;
    if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return node.name.text;
    if (ts.isCallExpression(init) && ts.isSourceFile(node.parent.parent.parent)) return node.name.text;
  }
  // A property holding a function or a factory's result (`storePayload: s3PayloadStore(…)`) runs where that
  // property is called; plain data properties belong to the enclosing unit.
  if (
    ts.isPropertyAssignment(node) &&
    (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
    (ts.isArrowFunction(node.initializer) ||
      ts.isFunctionExpression(node.initializer) ||
      ts.isCallExpression(node.initializer))
  )
    return node.name.text;
  if (ts.isPropertyDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) return node.name.text;
  return undefined;
}

function unitsOf(file: string): Unit[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const units: Unit[] = [];
  const walk = (node: ts.Node, current: Unit | undefined) => {
    const name = unitName(node);
    let unit = current;
    if (name) {
      unit = { name, file, commands: new Set(), refs: new Set(), calls: new Set(), transactItems: new Set() };
      units.push(unit);
    }
    if (unit) {
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text.endsWith('Command')
      )
        unit.commands.add(node.expression.text);
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression))
        unit.calls.add(node.expression.name.text);
      if (ts.isIdentifier(node) && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node))
        unit.refs.add(node.text);
      if (
        ts.isPropertyAssignment(node) &&
        ts.isIdentifier(node.name) &&
        node.name.text in TRANSACT_ITEM_ACTIONS
      )
        unit.transactItems.add(node.name.text);
    }
    ts.forEachChild(node, (child) => walk(child, unit));
  };
  walk(source, undefined);
  return units;
}

/** The IAM actions the code reachable from a handler needs. */
export function actionsFromCode(entryFile: string, startName: string, implied: readonly string[] = []) {
  const entry = resolve(ROOT, entryFile);
  const units = reachableModules(entry).flatMap(unitsOf);
  const byName = new Map<string, Unit[]>();
  for (const u of units) byName.set(u.name, [...(byName.get(u.name) ?? []), u]);
  const start = units.find((u) => u.file === entry && u.name === startName);
  if (!start) throw new Error(`no ${startName} in ${entry}`);
  const seen = new Set<Unit>();
  const parent = new Map<Unit, Unit>();
  const queue = [start];
  const commands = new Set<string>();
  const actions = new Set(implied);
  while (queue.length) {
    const unit = queue.pop()!;
    if (seen.has(unit)) continue;
    seen.add(unit);
    for (const c of unit.commands) {
      if (c === 'TransactWriteCommand') {
        for (const item of unit.transactItems) actions.add(TRANSACT_ITEM_ACTIONS[item]!);
      } else {
        const mapped = COMMAND_ACTIONS[c];
        if (!mapped) throw new Error(`${unit.file}: ${c} has no IAM mapping in this test — add it`);
        for (const a of mapped) actions.add(a);
      }
      commands.add(c);
    }
    // An identifier is a function of its own module when that module has one by the name, else an import.
    const targets = [
      ...[...unit.refs].flatMap((ref) => {
        const all = byName.get(ref) ?? [];
        const local = all.filter((u) => u.file === unit.file);
        return local.length ? local : all;
      }),
      ...[...unit.calls].flatMap((name) => byName.get(name) ?? []),
    ];
    for (const next of targets) {
      if (!seen.has(next) && !parent.has(next)) parent.set(next, unit);
      queue.push(next);
    }
  }
  /** How the walk reached a command (for failure messages). */
  const via = (command: string): string => {
    const unit = [...seen].find(
      (u) =>
        u.commands.has(command) || [...u.transactItems].some((i) => TRANSACT_ITEM_ACTIONS[i] === command),
    );
    const path: string[] = [];
    for (let u = unit; u; u = parent.get(u)) path.unshift(`${u.name}@${u.file.slice(ROOT.length + 1)}`);
    return path.join(' → ');
  };
  return { actions, commands, via };
}

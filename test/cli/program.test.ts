import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandName } from '../../src/cli/program.js';
import { REPO_ROOT } from '../loader/tmpProject.js';
import { runBerth } from './runCli.js';

describe('the command table', () => {
  it.each(Object.keys(COMMANDS))(
    '%s: the root help shows the command as it declares itself',
    async (name) => {
      const entry = COMMANDS[name]!;
      const program = new Command();
      (await entry.load())(program);
      const command = program.commands.find((c) => c.name() === name);
      expect(command, `${name} registers a command of that name`).toBeDefined();
      expect(command!.description()).toBe(entry.summary);
      const args = command!.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
      expect(args.join(' ')).toBe(entry.usage);
    },
  );

  it('finds the command after global options and their values', () => {
    expect(commandName(['-C', 'some/dir', '--jobs-dir', 'x', 'runs', 'list'])).toBe('runs');
    expect(commandName(['--cwd', 'runs', 'validate'])).toBe('validate');
    expect(commandName(['help', 'synth'])).toBe('synth');
    expect(commandName(['--help'])).toBeUndefined();
    expect(commandName([])).toBeUndefined();
  });
});

describe('berth binary', () => {
  it('--version and -V print the package version', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const run = runBerth([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(version);
    }
  });

  it('--help lists every command; a command help shows its options', () => {
    const root = runBerth(['--help']);
    expect(root.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(root.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    const sub = runBerth(['help', 'schedule']);
    expect(sub.stdout).toContain('--count');
  });

  it('an unknown command is an error that suggests the closest one', () => {
    const run = runBerth(['valdate']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown command 'valdate'/);
    expect(run.stderr).toMatch(/Did you mean validate\?/);
  });
});

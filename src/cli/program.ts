/**
 * The `berth` command line's table of commands. Each command lives in its own module (`commands/<name>.ts`) and is imported only
 * when it runs: `berth runs list` never loads the compiler, `berth --help` loads no command at all. The root
 * help lists every command from `COMMANDS` below (a test keeps each summary equal to the command's own
 * description).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

type Register = (program: Command) => void;

interface CommandEntry {
  /** The arguments as the command declares them, for the root help. */
  usage: string;
  summary: string;
  load: () => Promise<Register>;
}

/** Every command, sorted by name. */
export const COMMANDS: Record<string, CommandEntry> = {
  console: {
    usage: '',
    summary:
      'Serve the runs dashboard of a deployed stage on 127.0.0.1: runs, logs, queues and actions from AWS',
    load: async () => (await import('./commands/console.js')).registerConsole,
  },
  dev: {
    usage: '',
    summary: 'Run the jobs on this machine: bucket folders, schedules, queues, child processes (or docker)',
    load: async () => (await import('./commands/dev.js')).registerDev,
  },
  image: {
    usage: '',
    summary: "Build and push jobs' images (task.build)",
    load: async () => (await import('./commands/image.js')).registerImage,
  },
  init: {
    usage: '[dir]',
    summary: 'Scaffold a berth project here (or in dir): example jobs, tasks, serverless.yml, scripts',
    load: async () => (await import('./commands/init.js')).registerInit,
  },
  invoke: {
    usage: '<job>',
    summary: 'Start a run of a job by hand (locally; on AWS with --stage)',
    load: async () => (await import('./commands/invoke.js')).registerInvoke,
  },
  list: {
    usage: '',
    summary: 'List jobs with their triggers and next fire time',
    load: async () => (await import('./commands/list.js')).registerList,
  },
  put: {
    usage: '<bucket> <file>',
    summary: 'Copy a file into a local bucket folder (.berth/buckets/<bucket>/<key>), atomically',
    load: async () => (await import('./commands/put.js')).registerPut,
  },
  redrive: {
    usage: '<jobOrRunId>',
    summary:
      "Re-launch dead-lettered runs: one run by id, or every dead-lettered run of a job (and the job queue's dead-letter messages); with --stage, `launch-queue` moves the launch queue's dead-letter messages back",
    load: async () => (await import('./commands/redrive.js')).registerRedrive,
  },
  runs: {
    usage: '',
    summary: 'Run history: list, show, logs (local engine; AWS with --stage)',
    load: async () => (await import('./commands/runs.js')).registerRuns,
  },
  schedule: {
    usage: '<job>',
    summary:
      "Print a job's next fire times inside each schedule's startDate/endDate (ISO-8601 with the time zone's offset)",
    load: async () => (await import('./commands/schedule.js')).registerSchedule,
  },
  send: {
    usage: '<job> [json]',
    summary:
      "Send a message to a job's local queue (durable: berth dev picks it up, now or when it starts). The body is <json>, or read from --body-file <path> or standard input (- as <json> or as the path)",
    load: async () => (await import('./commands/send.js')).registerSend,
  },
  synth: {
    usage: '',
    summary: 'Write the CloudFormation template of every job (no Serverless needed) and the Lambda zips',
    load: async () => (await import('./commands/synth.js')).registerSynth,
  },
  validate: {
    usage: '',
    summary:
      'Load and validate every job file and custom.berth; print every problem found, errors then warnings (exit 1 on an error)',
    load: async () => (await import('./commands/validate.js')).registerValidate,
  },
};

/** The installed package's version (package.json sits two folders up from both src/cli and dist/cli). */
export function berthVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Global options that take a value: skipped when looking for the command's name in argv. */
const GLOBAL_WITH_VALUE = new Set(['-C', '--cwd', '--jobs-dir']);

/** The command named in argv (`berth [global options] <command> …`, or `berth help <command>`). */
export function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (GLOBAL_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    if (arg === 'help') return commandName(args.slice(i + 1)) ?? 'help';
    return arg;
  }
  return undefined;
}

/**
 * The program with the command that argv names registered (imported on demand), or, for the root help and
 * unknown names, every command as a one-line entry.
 */
export async function programFor(argv: readonly string[]): Promise<Command> {
  const program = createProgram();
  const name = commandName(argv.slice(2));
  const entry = name === undefined ? undefined : COMMANDS[name];
  if (entry) {
    (await entry.load())(program);
  } else {
    // The root help, `help`, or a name that is no command (commander answers with the closest one).
    for (const [command, e] of Object.entries(COMMANDS))
      program.command(`${command}${e.usage ? ` ${e.usage}` : ''}`).description(e.summary);
  }
  return program;
}

export function createProgram(): Command {
  return new Command()
    .name('berth')
    .description('Event-driven container jobs on AWS Fargate, declared in TypeScript')
    .version(berthVersion(), '-V, --version', 'print the version')
    .option('-C, --cwd <dir>', 'project root (default: the current directory)')
    .option(
      '--jobs-dir <dir>',
      'folder of job files, relative to the root (default: serverless.yml custom.berth.jobsDir, else jobs)',
    )
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
}

/**
 * The words of the problems that stop a project file from loading: a build error with its place and a code
 * frame, an import cycle, a file that calls `process.exit()`, one whose top-level `await` never settles, one
 * that runs past the time limit. Pure functions of esbuild's messages and metafile; the loader
 * (`importFiles.ts`) decides when each applies.
 */
import { formatDuration, tryParseDuration } from '../core/duration.js';
import { BerthError } from '../core/errors.js';

/** What stops one file from loading: the `problem` and `fix` of a `(file)` issue. */
export interface LoadFailure {
  problem: string;
  fix: string;
}

/** How long loading the project's files may take before berth stops it and names the file. */
export const DEFAULT_LOAD_TIMEOUT_MS = 30_000;

/** The environment variable that sets the time limit: a duration (`'5s'`, `'500ms'`) or a number of seconds. */
export const LOAD_TIMEOUT_ENV = 'BERTH_LOAD_TIMEOUT';

/**
 * The load time limit in milliseconds: the option when given, else `BERTH_LOAD_TIMEOUT`, else 30 s. A value
 * that is not a positive duration throws, naming the variable and the fix.
 */
export function loadTimeoutMs(option?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) {
    if (!(option > 0)) throw new BerthError(`load timeout ${option} ms must be more than 0`);
    return option;
  }
  const text = env[LOAD_TIMEOUT_ENV]?.trim();
  if (!text) return DEFAULT_LOAD_TIMEOUT_MS;
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : tryParseDuration(text);
  if (ms === undefined || !(ms > 0))
    throw new BerthError(
      `${LOAD_TIMEOUT_ENV}="${text}" is not a time limit — write a duration such as 30s, 2m or 500ms (a bare number is seconds)`,
    );
  return ms;
}

/** esbuild's message shape (`Message` in esbuild's types), as much of it as berth reads. */
export interface BuildMessage {
  text: string;
  location?: {
    file: string;
    line: number;
    column: number;
    length: number;
    lineText: string;
  } | null;
}

const TAB = '    ';

/**
 * A code frame under a place in a file, the way compilers print one:
 * ```
 *     3 │ export default defineJob({ name: 'x',
 *       │                                     ^
 * ```
 * `column` is esbuild's (0-based, in characters); tabs are widened so the caret stays under its character.
 */
export function codeFrame(line: number, column: number, lineText: string, length = 0): string {
  const number = String(line);
  const before = lineText.slice(0, column).replaceAll('\t', TAB);
  const text = lineText.replaceAll('\t', TAB);
  const caret = `${' '.repeat(before.length)}^${'~'.repeat(Math.max(0, Math.min(length, 60) - 1))}`;
  return `  ${number} │ ${text}\n  ${' '.repeat(number.length)} │ ${caret}`;
}

/**
 * The failure of a file esbuild could not build: `file:line:column: message` (column counted from 1, as
 * editors do) with a code frame in the fix; `file` is where the mistake is (the job file or a file it
 * imports). Further errors are counted.
 */
export function buildFailure(errors: readonly BuildMessage[], fallback: string): LoadFailure {
  const first = errors[0];
  if (!first) return { problem: `does not compile: ${fallback}`, fix: 'fix the code esbuild reports' };
  const more =
    errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  const loc = first.location;
  if (!loc) return { problem: `does not compile: ${first.text}${more}`, fix: 'fix the code esbuild reports' };
  const place = `${loc.file}:${loc.line}:${loc.column + 1}`;
  return {
    problem: `does not compile: ${place}: ${first.text}${more}`,
    fix: `correct the code at ${place}:\n${codeFrame(loc.line, loc.column, loc.lineText, loc.length)}`,
  };
}

/** esbuild's metafile, as much of it as berth reads: who imports whom, by project-relative path. */
export interface ImportGraph {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

/** Imports that run a module while its importer loads (a dynamic `import()` runs later and is left out). */
const EAGER = new Set(['import-statement', 'require-call']);

function isProjectFile(path: string): boolean {
  return !path.split('/').includes('node_modules') && !path.includes(':');
}

type Edges = Map<string, Set<string>>;

/** Who imports whom among the project's own files (packages, `node_modules`, are left out). */
function importEdges(graphs: readonly ImportGraph[]): Edges {
  const edges: Edges = new Map();
  for (const graph of graphs)
    for (const [from, input] of Object.entries(graph.inputs)) {
      if (!isProjectFile(from)) continue;
      const out = edges.get(from) ?? new Set<string>();
      for (const imp of input.imports)
        if (EAGER.has(imp.kind) && !imp.external && isProjectFile(imp.path)) out.add(imp.path);
      edges.set(from, out);
    }
  return edges;
}

/** The shortest cycle from `start` back to it (`[start, …, start]`), if any: breadth first from its imports. */
function cycleThrough(edges: Edges, start: string): string[] | undefined {
  const parent = new Map<string, string>();
  const queue = [...(edges.get(start) ?? [])];
  for (const next of queue) parent.set(next, start);
  let found = queue.includes(start);
  while (!found && queue.length > 0) {
    const node = queue.shift() as string;
    for (const next of edges.get(node) ?? []) {
      if (next === start) {
        parent.set(start, node);
        found = true;
        break;
      }
      if (parent.has(next)) continue;
      parent.set(next, node);
      queue.push(next);
    }
  }
  if (!found) return undefined;
  const path = [start];
  for (let node = parent.get(start) as string; node !== start; node = parent.get(node) as string)
    path.unshift(node);
  return [start, ...path.slice(0, -1), start];
}

/**
 * For each of `files` (project-relative, `/`-separated) that reaches itself through the project's own
 * static imports, one shortest cycle from it back to it: `['jobs/a.ts', 'jobs/b.ts', 'jobs/a.ts']`.
 * Packages (`node_modules`) are left out: a cycle inside a package is the package's business.
 */
export function findImportCycles(
  graphs: readonly ImportGraph[],
  files: readonly string[],
): Map<string, string[]> {
  const edges = importEdges(graphs);
  const cycles = new Map<string, string[]>();
  for (const start of files) {
    const cycle = cycleThrough(edges, start);
    if (cycle) cycles.set(start, cycle);
  }
  return cycles;
}

/**
 * A cycle among the files `file` imports (helpers that import each other), nearest first: what explains a
 * `Cannot access 'X' before initialization` thrown while `file` loads.
 */
export function cycleBelow(graphs: readonly ImportGraph[], file: string): string[] | undefined {
  const edges = importEdges(graphs);
  const seen = new Set([file]);
  const queue = [...(edges.get(file) ?? [])];
  for (const node of queue) seen.add(node);
  while (queue.length > 0) {
    const node = queue.shift() as string;
    const cycle = cycleThrough(edges, node);
    if (cycle) return cycle;
    for (const next of edges.get(node) ?? [])
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
  }
  return undefined;
}

/**
 * A file that throws while the files it imports form a cycle: the likely cause (a value read across the cycle
 * before it is set: `Cannot access 'X' before initialization` file by file, `undefined` in one bundle).
 */
export function cycleBelowFailure(message: string, cycle: readonly string[]): LoadFailure {
  return {
    problem: `throws on import: ${message.split('\n')[0]} (the files it imports form an import cycle, where a value can be read before it is set: ${cycle.join(' → ')})`,
    fix: 'break the cycle: move what those files share into a file that imports none of them; if the cycle is not the cause, fix the error',
  };
}

/** The failure of a job file that imports itself through other files. */
export function cycleFailure(cycle: readonly string[]): LoadFailure {
  return {
    problem: `is part of an import cycle: ${cycle.join(' → ')}`,
    fix: 'move what these files share into a helper file that imports none of them (a _-prefixed file, such as jobs/_shared.ts, is not loaded as a job); berth loads job files in no set order, so a value read across a cycle may not be set yet',
  };
}

/** The error a file threw while loading, as the worker thread reports it. */
export interface ThrownError {
  name?: string;
  message: string;
  /** Set when the file called what would end the process: `process.exit(3)`, `process.kill(process.pid)`. */
  call?: string;
}

const IMPORT_FIX =
  'fix the error; berth imports every file in the jobs folder (prefix helper files with _ to skip them)';

/** A file that threw (or called `process.exit()`) while it loaded. */
export function thrownFailure(error: ThrownError): LoadFailure {
  if (error.call !== undefined)
    return {
      problem: `calls ${error.call} while loading`,
      fix: 'throw an Error instead (berth reports it with the file), or move that code into the task: a job file only declares the job',
    };
  return { problem: `throws on import: ${error.message.split('\n')[0] ?? error.message}`, fix: IMPORT_FIX };
}

/** A file whose top-level `await` waits on a promise nothing will ever settle. */
export function neverSettlesFailure(): LoadFailure {
  return {
    problem: 'never finishes loading: its top-level await waits on a promise nothing settles',
    fix: 'remove that await or make sure what it waits for settles; a job file only declares the job',
  };
}

/** A file still loading when the time limit ran out: waiting (an await) or running (a loop that never ends). */
export function timeoutFailure(timeoutMs: number, running: boolean): LoadFailure {
  const limit = formatDuration(timeoutMs);
  return running
    ? {
        problem: `was still running its top-level code after ${limit} (a loop that never ends?); berth stopped it`,
        fix: `make the file's top-level code finish; if it is only slow, raise the limit with ${LOAD_TIMEOUT_ENV}=2m`,
      }
    : {
        problem: `had not finished loading after ${limit}: its top-level await was still waiting`,
        fix: `don't wait on the network or long work at the top of a job file; if it is only slow, raise the limit with ${LOAD_TIMEOUT_ENV}=2m`,
      };
}

/** A file that threw after its load had started, from a callback (the worker thread stopped). */
export function crashedFailure(error: ThrownError): LoadFailure {
  if (error.call !== undefined)
    return {
      problem: `calls ${error.call} while loading (from a callback)`,
      fix: 'throw an Error instead, or move that code into the task: a job file only declares the job',
    };
  return {
    problem: `an error was thrown while it loaded (from a callback): ${error.message.split('\n')[0]}`,
    fix: IMPORT_FIX,
  };
}

/** A file berth did not get to because another file used up the time limit. */
export function notLoadedFailure(timeoutMs: number): LoadFailure {
  return {
    problem: `was not loaded: berth stopped loading after ${formatDuration(timeoutMs)} because of the files reported above`,
    fix: 'fix those files, then load again',
  };
}

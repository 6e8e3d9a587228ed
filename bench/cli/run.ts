/**
 * CLI start-up and package size: what every `berth` command costs before it does anything, measured as
 * the CPU (user + system) of the whole process, next to `node -e 0` run the same way in the same run.
 * Goals (issue #10): `berth --help` ≤ 4× `node -e 0`; `berth validate` on the example jobs ≤ 6×; the packed
 * tarball's own files ≤ 1,500,000 bytes unpacked.
 *
 *   npm run bench:cli        (SAMPLES=15 by default; every command runs as its own process, interleaved)
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const samples = Number(process.env.SAMPLES ?? 15);
const node = process.execPath;
const berth = join(root, 'bin', 'berth.js');

/** CPU seconds (user + sys) of one child process, from bash's `times` (children's totals). */
function cpuOf(args: string[]): number {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const out = execFileSync('bash', ['-c', `${quoted} >/dev/null 2>&1; times`], {
    cwd: root,
    encoding: 'utf8',
  });
  const children = out.trim().split('\n')[1] ?? '';
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return secs.reduce((a, b) => a + b, 0);
}

function wallOf(args: string[]): number {
  const t0 = performance.now();
  execFileSync(args[0]!, args.slice(1), { cwd: root, stdio: 'ignore' });
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cases: [string, string[]][] = [
  ['node -e 0 (baseline)', [node, '-e', '0']],
  ['berth --version', [node, berth, '--version']],
  ['berth --help', [node, berth, '--help']],
  ['berth validate (4 example jobs)', [node, berth, 'validate']],
  ['berth list', [node, berth, 'list']],
];

const cpu = new Map<string, number[]>(cases.map(([n]) => [n, []]));
const wall = new Map<string, number[]>(cases.map(([n]) => [n, []]));
for (const [, args] of cases) cpuOf(args); // warm the file cache
for (let i = 0; i < samples; i++) {
  for (const [name, args] of cases) {
    cpu.get(name)!.push(cpuOf(args));
    wall.get(name)!.push(wallOf(args));
  }
}

const base = median(cpu.get(cases[0]![0])!);
console.log(`CLI start-up, ${samples} samples each, median (CPU = user + sys of the whole process)\n`);
console.log('command                              CPU ms   × node -e 0   wall ms');
for (const [name] of cases) {
  const c = median(cpu.get(name)!);
  console.log(
    `${name.padEnd(36)} ${(c * 1000).toFixed(0).padStart(6)}   ${(c / base).toFixed(2).padStart(10)}×   ${median(wall.get(name)!).toFixed(0).padStart(7)}`,
  );
}
const help = median(cpu.get('berth --help')!) / base;
const validate = median(cpu.get('berth validate (4 example jobs)')!) / base;
console.log(`\ngoal berth --help ≤ 4×: ${help.toFixed(2)}× ${help <= 4 ? 'met' : 'NOT met'}`);
console.log(`goal berth validate ≤ 6×: ${validate.toFixed(2)}× ${validate <= 6 ? 'met' : 'NOT met'}`);

// The tarball as npm would pack it (prepack builds dist/ first; --dry-run writes nothing).
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }),
) as { files: { path: string; size: number }[]; size: number; unpackedSize: number }[];
const files = packed[0]!.files;
const unpacked = files.reduce((s, f) => s + f.size, 0);
console.log(
  `\npackage: ${files.length} files, ${unpacked.toLocaleString('en')} bytes unpacked (goal ≤ 1,500,000: ${unpacked <= 1_500_000 ? 'met' : 'NOT met'}), ${packed[0]!.size.toLocaleString('en')} bytes packed`,
);

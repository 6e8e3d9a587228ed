import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration as coreFormat } from '../../src/core/duration.js';
import { formatDuration, formatRelative, formatTime, imageName, plural } from '../../src/dashboard/format.js';

/** A function of the page script, taken out of the asset as written. */
function scriptFunction(name: string): (ms: number) => string {
  const js = readFileSync(new URL('../../src/dashboard/assets/dashboard.js', import.meta.url), 'utf8');
  const match = new RegExp(`\\n {2}function ${name}\\(ms\\) \\{\\n[\\s\\S]*?\\n {2}\\}\\n`).exec(js);
  if (!match) throw new Error(`${name} not found in dashboard.js`);
  return new Function(`${match[0]}; return ${name};`)() as (ms: number) => string;
}

function scriptFormatter(): (ms: number) => string {
  return scriptFunction('formatDuration');
}

describe('durations', () => {
  it('are written as the CLI writes them, — when unknown', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(30_000)).toBe('30s');
    expect(formatDuration(245_000)).toBe('4m5s');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });

  it('tick in the page script exactly as the server renders them', () => {
    const inPage = scriptFormatter();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(inPage(ms)).toBe(coreFormat(ms));
      }),
    );
  });
});

describe('relative times', () => {
  it('say how long ago or how soon, in words', () => {
    expect(formatRelative(-2000)).toBe('just now');
    expect(formatRelative(-12_000)).toBe('12 s ago');
    expect(formatRelative(-245_000)).toBe('4 min ago');
    expect(formatRelative(5 * 3_600_000)).toBe('in 5 h');
    expect(formatRelative(-86_400_000)).toBe('1 day ago');
    expect(formatRelative(-3 * 86_400_000)).toBe('3 days ago');
  });

  it('tick in the page script exactly as the server renders them', () => {
    const inPage = scriptFunction('formatRelative');
    fc.assert(
      fc.property(fc.integer({ min: -30 * 86_400_000, max: 30 * 86_400_000 }), (ms) => {
        expect(inPage(ms)).toBe(formatRelative(ms));
      }),
    );
  });

  it('sit beside the absolute UTC time, which is also the hover text', () => {
    expect(formatTime('2026-11-26T11:56:00.000Z', new Date('2026-11-26T12:00:00.000Z')).value).toBe(
      '<time datetime="2026-11-26T11:56:00.000Z" title="2026-11-26 11:56:00 UTC">2026-11-26 11:56:00 UTC</time> <span class="ago" data-ago="2026-11-26T11:56:00.000Z">4 min ago</span>',
    );
    expect(formatTime(null).value).toBe('<span class="none">—</span>');
  });
});

describe('words', () => {
  it('plurals agree with the count', () => {
    expect(plural(1, 'run')).toBe('1 run');
    expect(plural(0, 'run')).toBe('0 runs');
    expect(plural(2, 'email address', 'email addresses')).toBe('2 email addresses');
  });

  it('image names break only after / and :', () => {
    const name = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app-x:2026-11-26';
    const markup = imageName(name).value;
    expect(markup).toBe(
      '<code class="image"><span>123456789012.dkr.ecr.eu-west-1.amazonaws.com/</span><wbr><span>team/</span><wbr><span>app-x:</span><wbr><span>2026-11-26</span></code>',
    );
    // Every part ends at a separator (or the end), and together they are the name.
    const parts = [...markup.matchAll(/<span>([^<]*)<\/span>/g)].map((m) => m[1] ?? '');
    expect(parts.join('')).toBe(name);
    for (const p of parts.slice(0, -1)) expect(p).toMatch(/[/:]$/);
  });
});

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration as coreFormat } from '../../src/core/duration.js';
import { formatDuration } from '../../src/dashboard/format.js';

/** The formatter of the page script, taken out of the asset as written. */
function scriptFormatter(): (ms: number) => string {
  const js = readFileSync(new URL('../../src/dashboard/assets/dashboard.js', import.meta.url), 'utf8');
  const match = /\n {2}function formatDuration\(ms\) \{\n[\s\S]*?\n {2}\}\n/.exec(js);
  if (!match) throw new Error('formatDuration not found in dashboard.js');
  return new Function(`${match[0]}; return formatDuration;`)() as (ms: number) => string;
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

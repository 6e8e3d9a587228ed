/** `berth dev` prints the warnings `berth validate` prints: locally they explain why nothing fires. */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, job, makeProject, startEngine } from './harness.js';

describe('berth dev: warnings in the banner', () => {
  const dir = makeProject('dev-warnings', {
    promo: job(
      'promo',
      `trigger: { schedule: { expression: 'at(2020-01-01T09:00:00)', timezone: 'Asia/Seoul' } }`,
    ),
    nightly: job('nightly', `trigger: { schedule: { expression: 'cron(0 2 * * ? *)' } }`),
  });
  afterAll(() => cleanup(dir));

  it('names the schedule that never fires again, with its time, and nothing for the others', async () => {
    const engine = await startEngine(dir);
    try {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal's colour codes
      const out = engine.output().replace(/\u001b\[[0-9;]*m/g, '');
      expect(out).toContain(
        '⚠ jobs/promo.ts: trigger.schedule.expression: never fires again: at(2020-01-01T09:00:00) was 2020-01-01T09:00:00+09:00, in the past — move it to a future time, or remove the schedule',
      );
      expect(out.split('\n').filter((l) => l.includes('⚠'))).toHaveLength(1);
    } finally {
      await engine.stop();
    }
  });
});

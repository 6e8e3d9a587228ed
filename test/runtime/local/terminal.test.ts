import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatDuration } from '../../../src/core/duration.js';
import type { OutcomeEvent } from '../../../src/core/lifecycle/events.js';
import { newRunRecord } from '../../../src/runtime/lifecycle.js';
import { defaultTerminalMode, TerminalView } from '../../../src/runtime/local/terminal.js';
import type { RunRecord } from '../../../src/runtime/ports.js';

/** A fake stdout: what the view wrote, in order. */
function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return {
    isTTY,
    columns: 100,
    writes,
    write: (text: string) => writes.push(text),
    text: () => writes.join(''),
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escape codes is the point
const CURSOR_CODES = /\x1b\[\d*[ABCDJK]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: colours are allowed anywhere (picocolors may colour when CI is set)
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

const T0 = Date.parse('2027-01-10T09:00:00.000Z');

function run(status: RunRecord['status'], attempt = 1): RunRecord {
  return newRunRecord({
    runId: 'r-order-1',
    job: 'order-worker',
    status,
    attempt,
    maxAttempts: 3,
    trigger: { kind: 'manual', requestId: 'req-1' },
    idempotencyKey: 'k1',
    createdAt: new Date(T0).toISOString(),
  });
}

function succeeded(): OutcomeEvent {
  return {
    source: 'berth',
    'detail-type': 'Job Run Succeeded',
    time: '2027-01-10T09:00:04.000Z',
    detail: {
      schemaVersion: 1,
      job: 'order-worker',
      runId: 'r-order-1',
      attempt: 2,
      maxAttempts: 3,
      status: 'succeeded',
      outcome: 'succeeded',
      exitCode: 0,
      stopCode: null,
      reason: null,
      decision: null,
      createdAt: new Date(T0).toISOString(),
      startedAt: '2027-01-10T09:00:01.000Z',
      stoppedAt: '2027-01-10T09:00:04.000Z',
      durationMs: 3000,
      costUsd: null,
      taskArn: 'local:4242',
      trigger: { kind: 'manual', summary: 'invoked by hand' },
      nextAttemptAt: null,
      mode: 'task',
      environment: 'local',
    },
  } as OutcomeEvent;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('terminal mode', () => {
  it('is live on a TTY, plain when piped or when CI is set', () => {
    expect(defaultTerminalMode(fakeStream(true), {})).toBe('live');
    expect(defaultTerminalMode(fakeStream(false), {})).toBe('plain');
    expect(defaultTerminalMode(fakeStream(true), { CI: 'true' })).toBe('plain');
  });
});

describe('live view on a TTY', () => {
  it('redraws the table of active runs in place: cursor up over the old rows, clear, new rows', () => {
    vi.useFakeTimers();
    let now = T0 + 2000;
    const out = fakeStream(true);
    const view = new TerminalView(defaultTerminalMode(out, {}), out, () => now);

    view.onRun(run('running'));
    expect(out.writes).toHaveLength(1); // nothing drawn before, so nothing to clear
    const first = plain(out.text());
    expect(first).toContain('1 active run');
    expect(first).toMatch(new RegExp(`order-worker\\s+#1/3\\s+running\\s+${formatDuration(2000)}`));

    // The timer redraws the same rows with the new duration: up 2 lines (header + row), clear to the end.
    out.writes.length = 0;
    now = T0 + 5000;
    vi.advanceTimersByTime(500);
    expect(out.writes[0]).toBe('\x1b[2A\x1b[0J');
    expect(plain(out.writes.slice(1).join(''))).toMatch(
      new RegExp(`order-worker\\s+#1/3\\s+running\\s+${formatDuration(5000)}`),
    );

    // A status change is redrawn at once, in place.
    out.writes.length = 0;
    view.onRun(run('retrying', 2));
    expect(out.writes[0]).toBe('\x1b[2A\x1b[0J');
    expect(plain(out.writes.slice(1).join(''))).toMatch(/order-worker\s+#2\/3\s+retrying/);

    // An event line scrolls above the table: clear the table, write the line, draw the table again.
    out.writes.length = 0;
    view.onEvent(succeeded());
    expect(out.writes[0]).toBe('\x1b[2A\x1b[0J');
    expect(plain(out.writes[1] ?? '')).toMatch(/09:00:04 order-worker\s+r-order-1 #2 succeeded 3/);
    expect(plain(out.writes[2] ?? '')).toContain('1 active run');

    // A final status removes the run; the table goes away.
    out.writes.length = 0;
    view.onRun(run('succeeded', 2));
    expect(out.writes).toEqual(['\x1b[2A\x1b[0J']);
    view.close();
    out.writes.length = 0;
    vi.advanceTimersByTime(2000);
    expect(out.writes).toEqual([]);
  });
});

describe('plain view (piped, or CI set)', () => {
  it.each([
    ['piped', fakeStream(false), {}],
    ['CI set on a TTY', fakeStream(true), { CI: 'true' }],
  ])('%s: appends one line per event, never moves the cursor', (_name, out, env) => {
    vi.useFakeTimers();
    const view = new TerminalView(defaultTerminalMode(out, env), out, () => T0 + 2000);
    view.onRun(run('running'));
    vi.advanceTimersByTime(2000);
    view.onRun(run('retrying', 2));
    view.onEvent(succeeded());
    view.onRun(run('succeeded', 2));
    view.print('berth dev stopped');
    view.close();
    expect(out.text()).not.toMatch(CURSOR_CODES);
    expect(out.writes.every((w) => w.endsWith('\n') && w.indexOf('\n') === w.length - 1)).toBe(true);
    expect(out.writes.map(plain)).toEqual([
      expect.stringMatching(/^09:00:04 order-worker\s+r-order-1 #2 succeeded 3.*\n$/),
      'berth dev stopped\n',
    ]);
  });
});

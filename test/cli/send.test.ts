/** `berth send`: bodies from a file or standard input, and FIFO message groups and deduplication ids. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  cleanup,
  job,
  makeProject,
  REPO,
  runs,
  sql,
  startEngine,
  waitFor,
} from '../runtime/local/harness.js';

let dir: string;
beforeAll(() => {
  dir = makeProject('cli-send', {
    orders: job('orders', `trigger: { queue: {} }`),
    ledger: job('ledger', `trigger: { queue: { fifo: true } }`),
  });
});
afterAll(() => cleanup(dir));

function send(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, '-C', dir, 'send', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 30_000,
    ...(input !== undefined ? { input } : { stdio: ['ignore', 'pipe', 'pipe'] }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Row = { body: string; group_id: string | null };
const messages = (queue: string) =>
  sql<Row>(dir, `SELECT body, group_id FROM messages WHERE queue = ? ORDER BY seq`, `job:${queue}`);

describe('berth send: the body from a file or standard input', { timeout: 120_000 }, () => {
  it('sends a file as it is (any text, not only JSON), byte for byte', () => {
    const file = join(dir, 'order.csv');
    const text = 'id,total\n1,"9.50"\ncafé ☕\n';
    writeFileSync(file, text);
    const r = send(['orders', '--body-file', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ messageId: expect.any(String) });
    expect(messages('orders').at(-1)?.body).toBe(text);
  });

  it('reads standard input for - (as the body or as --body-file)', () => {
    expect(send(['orders', '-'], '{"from":"stdin"}\n').code).toBe(0);
    expect(messages('orders').at(-1)?.body).toBe('{"from":"stdin"}\n');
    expect(send(['orders', '--body-file', '-'], 'plain text from a pipe').code).toBe(0);
    expect(messages('orders').at(-1)?.body).toBe('plain text from a pipe');
  });

  it('refuses no body, two bodies, an empty or unreadable file, and a body over 1 MiB, naming the source', () => {
    const before = messages('orders').length;
    expect(send(['orders']).stderr).toMatch(/no message body — give it inline .* from a file \(--body-file/);
    expect(send(['orders', '{}', '--body-file', 'x.json']).stderr).toMatch(/give the body once/);
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    expect(send(['orders', '--body-file', empty]).stderr).toContain(`${empty}: the body is empty`);
    expect(send(['orders', '--body-file', join(dir, 'missing.json')]).stderr).toMatch(
      /--body-file: cannot read .*missing\.json \(ENOENT/,
    );
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(1_048_577));
    expect(send(['orders', '--body-file', big]).stderr).toMatch(
      /big\.txt: .*Message must be shorter than 1048576 bytes/,
    );
    expect(send(['orders', '-'], 'bad \u0001 byte').stderr).toMatch(
      /standard input: Invalid binary character/,
    );
    expect(messages('orders')).toHaveLength(before);
  });
});

describe('berth send: FIFO jobs', { timeout: 120_000 }, () => {
  it('needs --group-id for a FIFO job and stores the group', () => {
    const r = send(['ledger', '{"entry":1}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--group-id: job 'ledger' reads a FIFO queue .* add --group-id <id>/);
    expect(send(['ledger', '{"entry":1}', '--group-id', 'account-42']).code).toBe(0);
    expect(messages('ledger')).toEqual([{ body: '{"entry":1}', group_id: 'account-42' }]);
  });

  it('queues a --dedup-id once within the deduplication window and returns the first message id', () => {
    const a = send(['ledger', '{"entry":2}', '--group-id', 'g', '--dedup-id', 'entry-2', '--json']);
    const b = send(['ledger', '{"entry":2}', '--group-id', 'g', '--dedup-id', 'entry-2', '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).messageId).toBe(JSON.parse(a.stdout).messageId);
    expect(messages('ledger').filter((m) => m.body === '{"entry":2}')).toHaveLength(1);
  });

  it('refuses --dedup-id on a standard queue and ids SQS would refuse', () => {
    expect(send(['orders', '{}', '--dedup-id', 'x']).stderr).toMatch(
      /--dedup-id: job 'orders' reads a standard queue; deduplication ids are for FIFO queues only/,
    );
    expect(send(['ledger', '{}', '--group-id', 'has space']).stderr).toMatch(
      /--group-id: "has space" is not a valid id/,
    );
    expect(send(['ledger', '{}', '--group-id', 'g', '--dedup-id', 'x'.repeat(129)]).stderr).toMatch(
      /--dedup-id: .* is not a valid id — use 1 to 128 characters/,
    );
  });
});

describe('berth send with berth dev running', { timeout: 120_000 }, () => {
  it("hands the message to the engine's SQS endpoint, without loading the job files", async () => {
    const live = makeProject('cli-send-live', { orders: job('orders', `trigger: { queue: {} }`) });
    const engine = await startEngine(live);
    try {
      const sendTo = (args: string[]) =>
        spawnSync(process.execPath, [BIN, '-C', live, 'send', ...args], {
          cwd: REPO,
          encoding: 'utf8',
          timeout: 30_000,
        });
      // A broken job file: loading the project fails now, but the engine runs its last good version.
      writeFileSync(join(live, 'jobs', 'orders.ts'), 'export default {{{ not a job');
      const sent = sendTo(['orders', '{"orderId":7}', '--json']);
      expect(sent.status, sent.stderr).toBe(0);
      expect(JSON.parse(sent.stdout)).toMatchObject({
        messageId: expect.any(String),
        md5OfBody: expect.any(String),
      });
      const [run] = await waitFor(
        () =>
          runs(live, 'orders')
            .filter((r) => r.status === 'succeeded')
            .at(0) && runs(live, 'orders'),
        30_000,
        engine.output,
      );
      expect(run!.status).toBe('succeeded');
      // The engine refuses a queue it does not have: the direct path then names the problem.
      const unknown = sendTo(['nope', '{}']);
      expect(unknown.status).toBe(1);
      await engine.stop();
      // With no engine, send loads the jobs itself, and the broken file is an error naming it.
      const offline = sendTo(['orders', '{}']);
      expect(offline.status).toBe(1);
      expect(offline.stderr).toContain('jobs/orders.ts');
    } finally {
      await engine.stop();
      cleanup(live);
    }
  });
});

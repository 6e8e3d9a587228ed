/**
 * The local outbox: an outcome event's row stays until its webhooks were tried (with retries), so a failing
 * endpoint gets it on the next try and a kill -9 mid-delivery repeats it on restart instead of losing it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, freePort, job, makeProject, sql, startEngine, waitFor } from './harness.js';

interface Hit {
  type: string;
  runId: string;
}

/** A webhook endpoint on 127.0.0.1 whose answer per request the test picks. */
async function endpoint(answer: (hit: Hit, n: number) => number | 'hang') {
  const hits: Hit[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => {
      const event = JSON.parse(body) as { 'detail-type': string; detail: { runId: string } };
      const hit = { type: event['detail-type'], runId: event.detail.runId };
      hits.push(hit);
      const status = answer(hit, hits.filter((h) => h.type === hit.type).length);
      if (status === 'hang') hanging.add(res);
      else res.writeHead(status).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const outboxRows = (dir: string) => sql<{ n: number }>(dir, 'SELECT count(*) AS n FROM outbox')[0]?.n;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) cleanup(d);
});

describe('local outbox delivery', () => {
  it('retries a webhook that fails once; the row is gone after the delivery', async () => {
    const hook = await endpoint((_hit, n) => (n === 1 ? 500 : 200));
    const dir = makeProject(
      'outbox-retry',
      { one: job('one', '') },
      { 'berth.dev.json': JSON.stringify({ webhooks: [{ url: hook.url, events: ['Job Run Succeeded'] }] }) },
    );
    dirs.push(dir);
    const engine = await startEngine(dir);
    try {
      expect(cli(dir, ['invoke', 'one']).code).toBe(0);
      await waitFor(
        () => hook.hits.length >= 2,
        15_000,
        () => engine.output(),
      );
      expect(hook.hits.map((h) => h.type)).toEqual(['Job Run Succeeded', 'Job Run Succeeded']);
      await waitFor(
        () => outboxRows(dir) === 0,
        5000,
        () => `outbox rows: ${outboxRows(dir)}`,
      );
    } finally {
      await engine.stop();
      await hook.close();
    }
  }, 40_000);

  it('a kill -9 while a webhook is being delivered repeats the event on restart instead of losing it', async () => {
    let up = false;
    const hook = await endpoint(() => (up ? 200 : 'hang'));
    const dir = makeProject(
      'outbox-crash',
      { one: job('one', '') },
      { 'berth.dev.json': JSON.stringify({ webhooks: [{ url: hook.url, events: ['Job Run Succeeded'] }] }) },
    );
    dirs.push(dir);
    const first = await startEngine(dir);
    try {
      expect(cli(dir, ['invoke', 'one']).code).toBe(0);
      await waitFor(
        () => hook.hits.length >= 1,
        15_000,
        () => first.output(),
      );
      first.proc.kill('SIGKILL');
      await first.exited;
    } finally {
      await first.stop();
    }
    expect(outboxRows(dir)).toBe(1);

    up = true;
    const second = await startEngine(dir);
    try {
      await waitFor(
        () => hook.hits.length >= 2,
        15_000,
        () => second.output(),
      );
      expect(hook.hits[1]).toEqual(hook.hits[0]);
      await waitFor(
        () => outboxRows(dir) === 0,
        5000,
        () => `outbox rows: ${outboxRows(dir)}`,
      );
    } finally {
      await second.stop();
      await hook.close();
    }
  }, 60_000);
});

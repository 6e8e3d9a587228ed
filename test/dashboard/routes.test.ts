import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_JOBS, FakeEngine, makeAttempt, makeRun } from './fakeEngine.js';
import { ENGINE_FALLBACK_BODY, type Harness, raw, startHarness } from './harness.js';

const TOKEN = 'test-token-0123456789abcdef';
const NOW = new Date('2026-11-26T12:00:00.000Z');
const logDir = join(process.cwd(), '.tmp', `dashboard-routes-${process.pid}`);
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

const XSS = '<script>alert("pwned")</script>';

let engine: FakeEngine;
let h: Harness;
let host: string;

beforeEach(async () => {
  engine = new FakeEngine(EXAMPLE_JOBS, logDir, () => NOW);
  h = await startHarness(engine, { token: TOKEN, now: () => NOW });
  host = `127.0.0.1:${h.port}`;
});
afterEach(async () => {
  await h.close();
});

function post(path: string, headers: Record<string, string> = {}, body = '') {
  return raw(h.port, { method: 'POST', path, headers: { host, ...headers }, body });
}

describe('pages', () => {
  it('jobs page: one table row per job with its trigger in words, last runs, rates, next fire and queue', async () => {
    engine.queues.set('thumbnail', { visible: 4, inFlight: 1, delayed: 2, deadLetter: 3 });
    engine.put(makeRun({ job: 'thumbnail', status: 'failed', deadLettered: true }));
    engine.put(makeRun({ job: 'thumbnail', status: 'failed' }));
    const res = await raw(h.port, { path: '/' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toMatch(/<table class="jobs">/);
    expect(res.body.match(/<th scope="col"/g)).toHaveLength(8);
    expect(res.body.match(/<tr id="job-[^"]+" data-job-stats=/g)).toHaveLength(2);
    expect(res.body).toContain('<a href="/jobs/thumbnail">thumbnail</a>');
    expect(res.body).toContain('when a .jpg object lands in s3://uploads/images/');
    expect(res.body).toContain('at 02:00 every day (Asia/Seoul)');
    // 02:00 Seoul is 17:00 UTC the day before: the absolute time in UTC, how soon beside it.
    expect(res.body).toContain(
      '<time datetime="2026-11-26T17:00:00.000Z" title="2026-11-26 17:00:00 UTC">2026-11-26 17:00:00 UTC</time> <span class="ago" data-ago="2026-11-26T17:00:00.000Z">in 5 h</span>',
    );
    expect(res.body).toMatch(/<span data-stat="visible">4<\/span> waiting · 1 in flight · 2 delayed/);
    expect(res.body).toContain('<span class="warn" data-stat="dead-letter">3 dead letters</span>');
    expect(res.body).toContain('<span class="warn" data-stat="dead-runs">1 run to redrive</span>');
    expect(res.body).toContain(
      'aria-label="Last 2 runs of thumbnail, oldest first: 2 failed; the newest failed."',
    );
    expect(res.body).toMatch(
      /data-stat="success-rate"><span class="warn">0%<\/span><span class="sub">0 of 2<\/span>/,
    );
    // The path of a run and the actions live on the job page, not once per job here.
    expect(res.body).not.toContain('<span class="step">Interceptor</span>');
    expect(res.body).not.toContain('data-action="/api/jobs/thumbnail/invoke"');
    expect(res.body).not.toMatch(/\(s\)|\(es\)/);
    expect(res.body).not.toContain('cron(');
    expect(res.body).toContain(`<meta name="berth-token" content="${TOKEN}">`);
    expect(res.body).toMatch(/<main id="main"/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('job page: its row, plots with text alternatives, the path of a run once, Run now', async () => {
    engine.put(
      makeRun({
        job: 'thumbnail',
        status: 'succeeded',
        createdAt: '2026-11-25T10:00:00.000Z',
        endedAt: '2026-11-25T10:00:30.000Z',
      }),
    );
    const res = await raw(h.port, { path: '/jobs/thumbnail' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('<tr id="job-thumbnail" data-job-stats="thumbnail">');
    expect(res.body.match(/<span class="step">Interceptor<\/span>/g)).toHaveLength(1);
    expect(res.body).toContain('data-action="/api/jobs/thumbnail/invoke"');
    expect(res.body.match(/<svg [^>]*role="img" aria-labelledby="[^"]+"/g)).toHaveLength(3);
    expect(res.body).toContain('1 run ended in the last 14 days; median 30s, longest 30s.');
    expect(res.body).toContain('<th scope="row">2026-11-25</th><td>1</td><td>0</td><td>0</td>');
    // No failed run: no "Replay all failed".
    expect(res.body).not.toContain('/replay-failed');
    expect((await raw(h.port, { path: '/jobs/nope' })).status).toBe(404);
  });

  it('job page: Replay failed only with failed runs not replayed yet; the image wraps at / and : only', async () => {
    const failed = engine.put(makeRun({ job: 'thumbnail', status: 'failed' }));
    let res = await raw(h.port, { path: '/jobs/thumbnail' });
    expect(res.body).toContain(
      '<button type="button" data-post="/api/jobs/thumbnail/replay-failed">Replay 1 failed run</button>',
    );
    expect(res.body).toContain(
      '<code class="image"><span>public.ecr.aws/</span><wbr><span>docker/</span><wbr><span>library/</span><wbr><span>node:</span><wbr><span>22-alpine</span></code>',
    );
    engine.put(makeRun({ job: 'thumbnail', status: 'succeeded', replayOf: failed.runId }));
    res = await raw(h.port, { path: '/jobs/thumbnail' });
    expect(res.body).not.toContain('/replay-failed');
  });

  it('job page: Redrive of the queue’s dead letters only when there are some, with a confirmation', async () => {
    let res = await raw(h.port, { path: '/jobs/thumbnail' });
    expect(res.body).toContain('<div class="dead-letters" data-job-dead-letters="thumbnail"></div>');
    expect(res.body).not.toContain('/api/jobs/thumbnail/redrive');
    engine.queues.set('thumbnail', { visible: 0, inFlight: 0, delayed: 0, deadLetter: 3 });
    res = await raw(h.port, { path: '/jobs/thumbnail' });
    expect(res.body).toContain(
      `<button type="button" data-post="/api/jobs/thumbnail/redrive" data-confirm="Move 3 dead letters back to thumbnail's queue? They are received again, as new messages." data-gone-after="true">Redrive 3 dead letters</button>`,
    );
    // The jobs page shows the count, not the action.
    expect((await raw(h.port, { path: '/' })).body).not.toContain('/api/jobs/thumbnail/redrive');
    const moved = await post('/api/jobs/thumbnail/redrive', { 'X-Berth-Token': TOKEN });
    expect(moved.status).toBe(202);
    expect(JSON.parse(moved.body)).toEqual({ job: 'thumbnail', messages: 3 });
    expect(engine.calls).toContainEqual({ method: 'redriveQueue', args: ['thumbnail'] });
    res = await raw(h.port, { path: '/jobs/thumbnail' });
    expect(res.body).not.toContain('/api/jobs/thumbnail/redrive');
  });

  it('runs page: filters go to the engine and rows carry status, trigger and duration', async () => {
    const run = engine.put(
      makeRun({
        job: 'thumbnail',
        status: 'failed',
        trigger: { kind: 's3', bucket: 'uploads', key: 'images/cat.jpg', size: 10, time: NOW.toISOString() },
        createdAt: '2026-11-26T11:59:00.000Z',
        endedAt: '2026-11-26T11:59:30.000Z',
      }),
    );
    engine.put(
      makeRun({ job: 'nightly-report', status: 'succeeded', createdAt: '2026-11-26T11:00:00.000Z' }),
    );
    const res = await raw(h.port, {
      path: '/runs?job=thumbnail&status=failed&since=1h&search=cat&status2=x',
    });
    expect(res.status).toBe(200);
    expect(engine.calls.at(-1)).toEqual({
      method: 'listRuns',
      args: [
        { job: 'thumbnail', status: 'failed', since: '2026-11-26T11:00:00.000Z', search: 'cat', limit: 100 },
      ],
    });
    expect(res.body).toContain(`id="run-${run.runId}"`);
    expect(res.body).toContain('s3://uploads/images/cat.jpg');
    expect(res.body).toContain('<span class="duration-text">30s</span>');
    expect(res.body).toContain('<option value="failed" selected>failed</option>');
    expect(res.body).not.toContain('nightly-report</td>');
    expect(res.body).toContain(
      'data-events="/api/events?view=runs&amp;job=thumbnail&amp;status=failed&amp;since=1h&amp;search=cat"',
    );
  });

  it('run page: escapes the payload, the object key and the log', async () => {
    const run = engine.put(
      makeRun({
        job: 'thumbnail',
        status: 'failed',
        attempt: 2,
        trigger: {
          kind: 's3',
          bucket: 'uploads',
          key: `images/${XSS}.jpg`,
          size: 1,
          time: NOW.toISOString(),
        },
        reason: XSS,
      }),
      [],
    );
    engine.attempts.set(run.runId, [
      makeAttempt({ runId: run.runId, attempt: 1, outcome: 'app_error', exitCode: 1, reason: XSS }),
      makeAttempt({
        runId: run.runId,
        attempt: 2,
        outcome: 'oom',
        exitCode: 137,
        stopCode: 'OutOfMemoryError',
        launchedAt: '2026-11-26T10:00:20.000Z',
        startedAt: '2026-11-26T10:00:21.000Z',
        stoppedAt: '2026-11-26T10:00:30.000Z',
        durationMs: 9000,
        costUsd: 0.0042,
      }),
    ]);
    engine.writeLog(run.runId, 1, `starting\n${XSS}\n`);
    engine.writeLog(run.runId, 2, 'second try\n');
    const res = await raw(h.port, { path: `/runs/${run.runId}` });
    expect(res.status).toBe(200);
    expect(res.body).not.toContain('<script>alert');
    expect(res.body).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(res.body).toContain('data-log="/api/runs/' + run.runId + '/attempts/1/log" data-offset="');
    expect(res.body).toContain(
      '<span class="ln" data-stream="stdout">starting</span>\n<span class="ln" data-stream="stdout">&lt;script&gt;',
    );
    expect(res.body).toContain('second try');
    expect(res.body).toContain('<code>OutOfMemoryError</code>');
    expect(res.body).toContain('<td>137</td>');
    expect(res.body).toContain('$0.0042');
    // Two attempts on the timeline, the second drawn after the first.
    expect(res.body.match(/<rect class="outcome-/g)).toHaveLength(2);
    expect(res.body).toContain(`data-post="/api/runs/${run.runId}/replay"`);
    expect(res.body).not.toContain(`data-post="/api/runs/${run.runId}/cancel"`);
    // "Replay all failed" is the job page's action.
    expect(res.body).not.toContain('/replay-failed');
    expect(res.body).toContain('<a href="/jobs/thumbnail">thumbnail</a>');
  });

  it('estimates what a local attempt would cost on Fargate at the job size', async () => {
    const run = engine.put(makeRun({ job: 'thumbnail', status: 'succeeded' }), []);
    engine.attempts.set(run.runId, [
      makeAttempt({ runId: run.runId, attempt: 1, costUsd: null, durationMs: 4000 }),
    ]);
    const res = await raw(h.port, { path: `/runs/${run.runId}` });
    // 0.5 vCPU and 1 GB for the one-minute minimum: 0.5·0.04048/60 + 1·0.004445/60 ≈ $0.00041.
    expect(res.body).toContain('≈ $0.00041 on Fargate');
  });

  it('run page offers Cancel while the run is active and Redrive when dead-lettered', async () => {
    const active = engine.put(makeRun({ job: 'thumbnail', status: 'running' }), []);
    const dead = engine.put(makeRun({ job: 'thumbnail', status: 'failed', deadLettered: true }), []);
    const a = await raw(h.port, { path: `/runs/${active.runId}` });
    expect(a.body).toContain(`data-post="/api/runs/${active.runId}/cancel"`);
    expect(a.body).not.toContain('/redrive"');
    const d = await raw(h.port, { path: `/runs/${dead.runId}` });
    expect(d.body).toContain(`data-post="/api/runs/${dead.runId}/redrive"`);
  });

  it('run page links a replay to its original and the original to its replays', async () => {
    const original = engine.put(makeRun({ job: 'thumbnail', status: 'failed' }), []);
    const first = engine.put(
      makeRun({ job: 'thumbnail', replayOf: original.runId, createdAt: '2026-11-26T10:01:00.000Z' }),
      [],
    );
    const second = engine.put(
      makeRun({ job: 'thumbnail', replayOf: original.runId, createdAt: '2026-11-26T10:02:00.000Z' }),
      [],
    );
    const link = (id: string) => `<a href="/runs/${id}"><code>${id}</code></a>`;
    const o = await raw(h.port, { path: `/runs/${original.runId}` });
    expect(o.body).toContain(
      `<dt>Replayed as</dt><dd data-field="replayed-as">${link(first.runId)}, ${link(second.runId)}</dd>`,
    );
    expect(o.body).not.toContain('<dt>Replay of</dt>');
    const r = await raw(h.port, { path: `/runs/${first.runId}` });
    expect(r.body).toContain(`<dt>Replay of</dt><dd data-field="replay-of">${link(original.runId)}</dd>`);
    expect(r.body).not.toContain('<dt>Replayed as</dt>');
  });

  it('shows a Sign out button only when the dashboard has a sign-out path (the console behind its sign-in)', async () => {
    for (const path of ['/', '/jobs/thumbnail', '/runs', '/runs/nope']) {
      expect((await raw(h.port, { path })).body).not.toContain('Sign out');
    }
    const signedIn = await startHarness(engine, { token: TOKEN, now: () => NOW, signOutPath: '/logout' });
    try {
      for (const path of ['/', '/jobs/thumbnail', '/runs', '/runs/nope']) {
        expect((await raw(signedIn.port, { path })).body).toContain(
          '<form class="sign-out" method="post" action="/logout"><button type="submit">Sign out</button></form>',
        );
      }
    } finally {
      await signedIn.close();
    }
  });

  it('a run queued from the page (a stage’s launch queue) gets a waiting page until it exists, then its own', async () => {
    // A deployed stage answers Run now and Replay with `queued`: the launcher makes the run later.
    const queuedId = 'r00000000000000000001';
    const original = engine.put(makeRun({ job: 'thumbnail', status: 'failed' }));
    const stage = Object.create(engine) as FakeEngine;
    stage.invoke = async () => ({ status: 'queued', runId: queuedId }) as never;
    stage.replay = async () => ({ status: 'queued', runId: 'r00000000000000000002' }) as never;
    let clock = NOW;
    const staged = await startHarness(stage, { token: TOKEN, now: () => clock });
    const at = `127.0.0.1:${staged.port}`;
    const send = (path: string) =>
      raw(staged.port, { method: 'POST', path, headers: { host: at, 'X-Berth-Token': TOKEN }, body: '' });
    try {
      // Never asked for: a plain 404.
      expect((await raw(staged.port, { path: `/runs/${queuedId}` })).status).toBe(404);
      expect(JSON.parse((await send('/api/jobs/thumbnail/invoke')).body)).toEqual({
        status: 'queued',
        runId: queuedId,
      });
      let res = await raw(staged.port, { path: `/runs/${queuedId}` });
      expect(res.status).toBe(202);
      expect(res.body).toContain('id="run-pending"');
      expect(res.body).toContain('the launcher has not started this run yet');
      expect(res.body).toContain(`data-events="/api/events?view=run&amp;run=${queuedId}"`);
      // Replay's queued run too.
      await send(`/api/runs/${original.runId}/replay`);
      expect((await raw(staged.port, { path: '/runs/r00000000000000000002' })).status).toBe(202);
      // The launcher started it: the run's own page.
      engine.put(makeRun({ job: 'thumbnail', runId: queuedId, status: 'running' }));
      res = await raw(staged.port, { path: `/runs/${queuedId}` });
      expect(res.status).toBe(200);
      expect(res.body).toContain('id="run-live"');
      expect(res.body).not.toContain('run-pending');
      // Never started within the wait: a 404 that says where the message went.
      clock = new Date(NOW.getTime() + 11 * 60_000);
      res = await raw(staged.port, { path: '/runs/r00000000000000000002' });
      expect(res.status).toBe(404);
      expect(res.body).toContain('the launcher has not started it');
      expect(res.body).toContain('berth redrive launch-queue');
    } finally {
      await staged.close();
    }
  });

  it('answers 404 for an unknown run, and serves the assets', async () => {
    const res = await raw(h.port, { path: `/runs/${encodeURIComponent(XSS)}` });
    expect(res.status).toBe(404);
    expect(res.body).toContain('There is no run &lt;script&gt;');
    const js = await raw(h.port, { path: '/assets/dashboard.js' });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain('X-Berth-Token');
    const css = await raw(h.port, { path: '/assets/dashboard.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('leaves other paths to the engine', async () => {
    for (const path of ['/health', '/api/engine/status', '/assets/other.js', '/runs/a/b']) {
      const res = await raw(h.port, { path });
      expect(res.body, path).toBe(ENGINE_FALLBACK_BODY);
    }
    // Not even an engine POST route is blocked by the dashboard's token check.
    expect((await post('/api/engine/stop')).body).toBe(ENGINE_FALLBACK_BODY);
  });
});

describe('JSON API', () => {
  it('lists runs with an ISO since and a limit, and returns one run with its attempts', async () => {
    const run = engine.put(makeRun({ job: 'thumbnail', createdAt: '2026-11-26T11:30:00.000Z' }), [
      makeAttempt({ runId: 'x', attempt: 1 }),
    ]);
    const list = await raw(h.port, { path: '/api/runs?since=2026-11-26T11:00:00Z&limit=5' });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body)).toEqual([run]);
    expect(engine.calls.at(-1)?.args[0]).toEqual({ limit: 5, since: '2026-11-26T11:00:00.000Z' });
    expect((await raw(h.port, { path: '/api/runs?since=yesterday' })).status).toBe(400);
    const one = JSON.parse((await raw(h.port, { path: `/api/runs/${run.runId}` })).body);
    expect(one.run.runId).toBe(run.runId);
    expect(one.attempts).toHaveLength(1);
    expect((await raw(h.port, { path: '/api/runs/nope' })).status).toBe(404);
  });

  it('serves log lines from a cursor, only for attempts that exist', async () => {
    const run = engine.put(makeRun({ job: 'thumbnail', status: 'running', attempt: 1 }), []);
    engine.writeLog(run.runId, 1, 'hello\nworld\n');
    const first = JSON.parse((await raw(h.port, { path: `/api/runs/${run.runId}/attempts/1/log` })).body);
    expect(first).toMatchObject({
      lines: [
        { stream: 'stdout', text: 'hello' },
        { stream: 'stdout', text: 'world' },
      ],
      next: '12',
      exists: true,
      partial: false,
    });
    const next = JSON.parse(
      (await raw(h.port, { path: `/api/runs/${run.runId}/attempts/1/log?offset=6` })).body,
    );
    expect(next.lines).toEqual([{ stream: 'stdout', text: 'world' }]);
    expect((await raw(h.port, { path: `/api/runs/${run.runId}/attempts/2/log` })).status).toBe(404);
    expect((await raw(h.port, { path: `/api/runs/${run.runId}/attempts/1/log?offset=-1` })).status).toBe(400);
    expect((await raw(h.port, { path: '/api/runs/..%2F..%2Fetc/attempts/1/log' })).status).toBe(404);
  });

  it('lists jobs with next fire times and queue numbers', async () => {
    const jobs = JSON.parse((await raw(h.port, { path: '/api/jobs' })).body);
    expect(jobs.map((j: { name: string }) => j.name)).toEqual(['nightly-report', 'thumbnail']);
    expect(jobs[0].nextFireTimes[0]).toBe('2026-11-26T17:00:00.000Z');
  });
});

describe('actions', () => {
  it('Run now passes the JSON payload to the engine', async () => {
    const payload = { note: XSS, n: 1 };
    const res = await post(
      '/api/jobs/thumbnail/invoke',
      { 'x-berth-token': TOKEN },
      JSON.stringify({ payload }),
    );
    expect(res.status).toBe(202);
    const result = JSON.parse(res.body);
    expect(result.status).toBe('accepted');
    expect(engine.calls.find((c) => c.method === 'invoke')?.args).toEqual(['thumbnail', payload]);
    // The payload is shown escaped on the new run's page.
    const page = await raw(h.port, { path: `/runs/${result.runId}` });
    expect(page.body).toContain(
      '&quot;note&quot;: &quot;&lt;script&gt;alert(\\&quot;pwned\\&quot;)&lt;/script&gt;&quot;',
    );
    expect(page.body).not.toContain('<script>alert');
  });

  it('Run now without a body, with bad JSON, and for an unknown job', async () => {
    const t = { 'x-berth-token': TOKEN };
    expect((await post('/api/jobs/thumbnail/invoke', t)).status).toBe(202);
    expect(engine.calls.find((c) => c.method === 'invoke')?.args).toEqual(['thumbnail', undefined]);
    expect((await post('/api/jobs/thumbnail/invoke', t, '{nope')).status).toBe(400);
    expect((await post('/api/jobs/thumbnail/invoke', t, '[1]')).status).toBe(400);
    expect((await post('/api/jobs/ghost/invoke', t, '{}')).status).toBe(404);
  });

  it('Run now for an object: the S3-triggered job gets bucket and key; bad input is a 400', async () => {
    const t = { 'x-berth-token': TOKEN };
    const s3 = { bucket: 'uploads', key: 'images/cat.jpg' };
    const res = await post('/api/jobs/thumbnail/invoke', t, JSON.stringify({ s3 }));
    expect(res.status).toBe(202);
    expect(engine.calls.filter((c) => c.method === 'invoke').at(-1)?.args).toEqual([
      'thumbnail',
      undefined,
      { s3 },
    ]);
    const bad = async (body: unknown) =>
      (await post('/api/jobs/thumbnail/invoke', t, JSON.stringify(body))).status;
    expect(await bad({ s3: { bucket: 'uploads' } })).toBe(400);
    expect(await bad({ s3: 'images/cat.jpg' })).toBe(400);
    expect(await bad({ s3: { key: 'a.jpg', bucket: 7 } })).toBe(400);
    expect(await bad({ s3: { key: 'a.jpg' }, payload: { x: 1 } })).toBe(400);
    const missing = await post(
      '/api/jobs/thumbnail/invoke',
      t,
      JSON.stringify({ s3: { key: 'missing.jpg' } }),
    );
    expect(missing.status).toBe(400);
    expect(missing.body).toContain('put it there first');
    // The job page's form offers the bucket and key for the S3-triggered job only.
    const page = await raw(h.port, { path: '/jobs/thumbnail' });
    expect(page.body).toMatch(
      /<select id="[^"]*thumbnail[^"]*-bucket" name="bucket"><option value="uploads">/,
    );
    expect(page.body.match(/name="key"/g)).toHaveLength(1);
    expect((await raw(h.port, { path: '/jobs/nightly-report' })).body).not.toContain('name="key"');
  });

  it('replay, cancel, redrive and replay-failed call the engine', async () => {
    const t = { 'x-berth-token': TOKEN };
    const failed = engine.put(makeRun({ job: 'thumbnail', status: 'failed', deadLettered: true }), []);
    const running = engine.put(makeRun({ job: 'thumbnail', status: 'running' }), []);
    const replay = await post(`/api/runs/${failed.runId}/replay`, t);
    expect(replay.status).toBe(202);
    const replayed = engine.runs.get(JSON.parse(replay.body).runId);
    expect(replayed?.replayOf).toBe(failed.runId);
    expect(replayed?.trigger).toEqual(failed.trigger);

    expect((await post(`/api/runs/${running.runId}/cancel`, t)).status).toBe(202);
    expect(engine.runs.get(running.runId)?.status).toBe('cancelled');
    const again = await post(`/api/runs/${running.runId}/cancel`, t);
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).cancelled).toBe(false);

    expect((await post(`/api/runs/${failed.runId}/redrive`, t)).status).toBe(202);
    const notDead = await post(`/api/runs/${running.runId}/redrive`, t);
    expect(notDead.status).toBe(409);
    expect(JSON.parse(notDead.body).error).toContain('not dead-lettered');

    const bulk = await post('/api/jobs/thumbnail/replay-failed', t);
    expect(bulk.status).toBe(202);
    expect(JSON.parse(bulk.body).results).toHaveLength(1);
    expect((await post('/api/runs/ghost/replay', t)).status).toBe(404);
  });

  it('refuses actions without the token, with a wrong token, or from another site', async () => {
    const run = engine.put(makeRun({ job: 'thumbnail', status: 'failed' }), []);
    const path = `/api/runs/${run.runId}/replay`;
    const refused = [
      await post(path),
      await post(path, { 'x-berth-token': 'wrong' }),
      await post(path, { 'x-berth-token': TOKEN, 'sec-fetch-site': 'cross-site' }),
      await post(path, { 'x-berth-token': TOKEN, origin: 'https://evil.example' }),
      await raw(h.port, {
        method: 'POST',
        path,
        headers: { host: `evil.example:${h.port}`, 'x-berth-token': TOKEN },
      }),
      await post(
        '/api/jobs/thumbnail/invoke',
        { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
        '{}',
      ),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect(engine.calls.filter((c) => c.method !== 'listRuns')).toEqual([]);
    // Same-origin with the token works.
    expect(
      (
        await post(path, {
          'x-berth-token': TOKEN,
          origin: `http://${host}`,
          'sec-fetch-site': 'same-origin',
        })
      ).status,
    ).toBe(202);
  });

  it('refuses cross-site reads of the API and a rebound Host for pages', async () => {
    expect(
      (await raw(h.port, { path: '/api/runs', headers: { 'sec-fetch-site': 'cross-site' } })).status,
    ).toBe(403);
    const rebound = await raw(h.port, { path: '/', headers: { host: `attacker.example:${h.port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain(TOKEN);
    expect((await raw(h.port, { method: 'POST', path: '/', headers: { host } })).status).toBe(405);
  });
});

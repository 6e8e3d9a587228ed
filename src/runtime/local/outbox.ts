/**
 * Outcome-event delivery. The lifecycle's publisher writes each event to the `outbox` table inside the step's
 * transaction; after the commit every row is delivered once per engine (terminal, listeners, `/events`
 * streams, `defineSubscriber` handlers, webhooks with their bounded retries) and deleted only after every
 * consumer was tried, so a kill -9 mid-delivery repeats the event on the next start, never loses it.
 * Delivery runs in the background: a slow webhook never holds up the engine.
 */

import { randomUUID } from 'node:crypto';
import type { OutcomeEvent } from '../../core/lifecycle/events.js';
import { loadSubscribers } from '../../loader/loadSubscribers.js';
import { runSubscriber } from '../../subscriber/index.js';
import type { Webhook } from './config.js';
import type { Db } from './db.js';

export interface OutboxOptions {
  db: Db;
  webhooks: Webhook[];
  /** Hands an event to the terminal view and in-process listeners. */
  emit: (event: OutcomeEvent) => void;
  /** Writes a server-sent event to every open `/events` stream. */
  broadcast: (data: string) => void;
  log: (line: string) => void;
}

interface Subscriber {
  name: string;
  file: string;
  run: (e: OutcomeEvent) => Promise<void>;
}

export class Outbox {
  /** Outbox rows whose delivery is under way in this process. */
  private readonly delivering = new Map<number, Promise<void>>();
  private readonly subscribers: Subscriber[] = [];
  subscriberNames: string[] = [];
  /** Set once the HTTP server is up; events delivered before only skip the (not yet open) streams. */
  broadcast: (data: string) => void;

  constructor(
    private readonly options: Omit<OutboxOptions, 'broadcast'> & Partial<Pick<OutboxOptions, 'broadcast'>>,
  ) {
    this.broadcast = options.broadcast ?? (() => {});
  }

  /** The lifecycle's publisher: the event goes to the outbox inside the step's transaction. */
  enqueue(event: OutcomeEvent): void {
    this.options.db
      .prepare('INSERT INTO outbox (event) VALUES (?)')
      .run(JSON.stringify({ ...event, id: event.id ?? randomUUID() }));
  }

  /** Starts delivering every row not already under way. */
  flush(): void {
    const db = this.options.db;
    const rows = db.prepare('SELECT seq, event FROM outbox ORDER BY seq').all() as {
      seq: number;
      event: string;
    }[];
    for (const row of rows) {
      if (this.delivering.has(row.seq)) continue;
      const event = JSON.parse(row.event) as OutcomeEvent;
      const done = this.deliver(event)
        .catch((e) => this.options.log(`✖ event ${event.id}: ${(e as Error).message}`))
        .finally(() => {
          this.delivering.delete(row.seq);
          if (db.open) db.prepare('DELETE FROM outbox WHERE seq = ?').run(row.seq);
        });
      this.delivering.set(row.seq, done);
    }
  }

  /** Resolves when deliveries under way finished, or after `ms`; rows still pending are delivered next start. */
  async settle(ms: number): Promise<void> {
    await Promise.race([
      Promise.all(this.delivering.values()),
      new Promise((r) => setTimeout(r, ms).unref()),
    ]);
  }

  private async deliver(event: OutcomeEvent): Promise<void> {
    const log = this.options.log;
    this.options.emit(event);
    this.broadcast(`event: outcome\nid: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
    const tries: Promise<void>[] = [];
    for (const hook of this.options.webhooks) {
      if (hook.events && !hook.events.includes(event['detail-type'])) continue;
      tries.push(
        postWebhook(hook.url, event).catch((e) => log(`✖ webhook ${hook.url}: ${(e as Error).message}`)),
      );
    }
    for (const s of this.subscribers) {
      tries.push(
        s.run(event).catch((error) => log(`✖ subscriber ${s.name} (${s.file}): ${(error as Error).message}`)),
      );
    }
    await Promise.all(tries);
  }

  /** `defineSubscriber` handlers in `subscribers/` run here too, on the same events as on AWS. */
  async loadSubscribers(root: string, _version?: string): Promise<void> {
    // Each load bundles the files afresh (src/loader/importFiles.ts): an edited file is never served from
    // the module cache, so the reload's version needs no query string.
    const loaded = await loadSubscribers(root);
    // Replaces the set (a reload calls this again); a load that throws leaves the set in use as it was.
    this.subscriberNames = loaded.map((l) => l.name);
    this.subscribers.length = 0;
    for (const l of loaded)
      this.subscribers.push({
        name: l.name,
        file: l.file,
        run: async (e) => void (await runSubscriber(l.subscriber as Parameters<typeof runSubscriber>[0], e)),
      });
  }
}

async function postWebhook(url: string, event: OutcomeEvent): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'berth-dev' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) return;
      if (attempt >= 3 || res.status < 500) throw new Error(`HTTP ${res.status}`);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
    await new Promise((r) => setTimeout(r, 500 * attempt));
  }
}

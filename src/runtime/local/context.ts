/**
 * What the parts of the local engine share: the database and its stores, the transaction chain, the lifecycle
 * ports and the loaded jobs. The engine (`engine.ts`) builds it once at start; the HTTP server, the outbox, the
 * pump, the triggers and the stop recorder each take it instead of reaching into the engine.
 */
import type { Job } from '../../core/model/job.js';
import type { LifecycleDeps } from '../ports.js';
import type { Db } from './db.js';
import type { DevPaths } from './paths.js';
import type { SqliteQueues } from './queue.js';
import type { SqliteRunStore } from './store.js';
import type { TxRunner } from './tx.js';

export interface EngineContext {
  readonly paths: DevPaths;
  readonly db: Db;
  readonly store: SqliteRunStore;
  readonly queues: SqliteQueues;
  readonly tx: TxRunner;
  readonly deps: LifecycleDeps;
  /** The loaded jobs, in name order (read it each time: the set may change while the engine runs). */
  jobs(): readonly Job[];
  job(name: string): Job | undefined;
  /** True once `stop` began. */
  stopping(): boolean;
  log(line: string): void;
}

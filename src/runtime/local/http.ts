/**
 * The engine's HTTP server on 127.0.0.1: the one place where every request enters (`handle`). First, for
 * every route, the gate (`guard.ts`): a `Host` that is not loopback (DNS rebinding) or a request another
 * site sent is refused before routing. Then, in order: SQS calls — the worker endpoint of service-mode queue
 * jobs and the SQS-compatible endpoint — whose body is read with a cap and whose SigV4 signature must be
 * the engine's credential (`.berth/credentials`); the dashboard; the engine's own `GET /events` (server-sent
 * outcome events), `GET /api/health` and `GET /`.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BerthError } from '../../core/errors.js';
import type { CreateDashboard, LocalEngineApi } from './api.js';
import type { DevCredentials } from './credentials.js';
import { refusalOf } from './guard.js';
import {
  admitSqsCall,
  isSqsRequest,
  SQS_MAX_REQUEST_BYTES,
  type SqsBackend,
  SqsError,
  sendSqsError,
  serveSqs,
} from './sqs.js';
import { isWorkerCall, WORKER_MAX_REQUEST_BYTES, type WorkerPools } from './workers.js';

export class EngineError extends BerthError {
  override name = 'EngineError';
}

export interface EngineInfo {
  pid: number;
  port: number;
  url: string;
  startedAt: string;
}

export interface EngineHttpOptions {
  port: number;
  /** What the dashboard reads and drives. */
  api: LocalEngineApi;
  token: string;
  /** The SQS-compatible endpoint's view of the job queues. */
  sqs: SqsBackend;
  /** This start's credential: SQS and worker calls must be signed with it (SigV4). */
  credentials: DevCredentials;
  /** The worker pools, once started (they need the URL this server listens on). */
  workers: () => WorkerPools | undefined;
  /** Names of the loaded jobs (for `/api/health`). */
  jobNames: () => string[];
  log: (line: string) => void;
}

type Dashboard = ReturnType<CreateDashboard>;

export class EngineHttp {
  /** Open `GET /events` streams. */
  private readonly sse = new Set<ServerResponse>();
  private constructor(
    private readonly options: EngineHttpOptions,
    private readonly server: Server,
    private readonly dashboard: Dashboard | undefined,
    readonly info: EngineInfo,
  ) {}

  get hasDashboard(): boolean {
    return this.dashboard !== undefined;
  }

  /** Loads the dashboard (when present) and listens; rejects with a clear message when the port is taken. */
  static async start(options: EngineHttpOptions): Promise<EngineHttp> {
    const dashboard = await loadDashboard(options);
    let http: EngineHttp | undefined;
    const server = createServer((req, res) => {
      if (!http) {
        res.writeHead(503).end();
        return;
      }
      void http.handle(req, res).catch((error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((error as Error).message));
      });
    });
    const port = options.port;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new EngineError(
                `--port ${port}: port ${port} on 127.0.0.1 is in use — stop what uses it or pass --port <another>`,
              )
            : error,
        );
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const actual = (server.address() as AddressInfo).port;
    http = new EngineHttp(options, server, dashboard, {
      pid: process.pid,
      port: actual,
      url: `http://127.0.0.1:${actual}`,
      startedAt: new Date().toISOString(),
    });
    return http;
  }

  /** Every request enters here. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = refusalOf(req);
    if (refusal) {
      // Answered in the caller's protocol, read by nobody's page: the gate runs before any route.
      if (isSqsRequest(req))
        sendSqsError(res, new SqsError('AccessDenied', 'AccessDenied', refusal.message, true, 403));
      else {
        res.writeHead(403, {
          'content-type': 'text/plain; charset=utf-8',
          'cache-control': 'no-store',
          // As the dashboard's answers: another site's page may never read it, not even opaquely.
          'cross-origin-resource-policy': 'same-origin',
          'x-content-type-options': 'nosniff',
        });
        res.end(`${refusal.message}\n`);
      }
      return;
    }
    const workers = this.options.workers();
    if (isSqsRequest(req)) {
      const workerCall = workers !== undefined && isWorkerCall(req);
      const limit = workerCall ? WORKER_MAX_REQUEST_BYTES : SQS_MAX_REQUEST_BYTES;
      const body = await admitSqsCall(req, res, this.options.credentials, limit);
      if (body === undefined) return;
      if (workerCall && workers) return workers.serve(req, res, body);
      return serveSqs(this.options.sqs, this.info.url, req, res, body);
    }
    if (workers?.handles(req)) return workers.serve(req, res);
    if (this.dashboard && (await this.dashboard(req, res))) return;
    const url = new URL(req.url ?? '/', this.info.url);
    if (req.method === 'GET' && url.pathname === '/events') return this.openSse(req, res);
    if (req.method === 'GET' && url.pathname === '/api/health') {
      // `problems`: job or subscriber files that fail to load since a save (their last good version runs).
      const problems = this.options.api.loadProblems?.() ?? [];
      return json(res, 200, { ok: true, pid: process.pid, jobs: this.options.jobNames(), problems });
    }
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`berth dev on ${this.info.url}\nevents: ${this.info.url}/events (server-sent events)\n`);
      return;
    }
    json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  }

  private openSse(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': berth dev outcome events\n\n');
    this.sse.add(res);
    req.on('close', () => this.sse.delete(res));
  }

  /** Writes one server-sent event to every open `/events` stream. */
  broadcast(data: string): void {
    for (const res of this.sse) res.write(data);
  }

  /** Ends the event streams and closes the server with its connections. */
  async close(): Promise<void> {
    for (const res of this.sse) res.end();
    this.sse.clear();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

async function loadDashboard(options: EngineHttpOptions): Promise<Dashboard | undefined> {
  try {
    const file = join(
      import.meta.dirname,
      `../../dashboard/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    );
    if (existsSync(file)) {
      const mod = (await import(pathToFileURL(file).href)) as { createDashboard?: CreateDashboard };
      if (typeof mod.createDashboard === 'function')
        return mod.createDashboard(options.api, { token: options.token });
    }
  } catch (error) {
    options.log(`! dashboard not loaded: ${(error as Error).message}`);
  }
  return undefined;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The runs console of a deployed stage: the `berth dev` dashboard (same routes, same token scheme, same Host
 * and cross-site checks) over `AwsConsoleSource`, served on 127.0.0.1 by `berth console --stage` and, with
 * `host`, `allowedHosts` and `wrap`, by the App Runner entry (src/console/appRunner.ts).
 *
 * @example
 * const console = await startConsole({ stage: 'prod', port: 0 });
 * process.stdout.write(`${console.url}\n`);
 * // …
 * await console.close();
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Job } from '../core/model/job.js';
import { createDashboard } from '../dashboard/index.js';
import { isAllowedHost } from '../dashboard/security.js';
import { loadJobsOrThrow } from '../loader/loadJobs.js';
import { resolveStack, type StackResources, serviceName } from '../runtime/aws/stage.js';
import { AwsConsoleSource } from './awsSource.js';

export type { StackResources } from '../runtime/aws/stage.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface ConsoleOptions {
  stage: string;
  /** @default the SDK's region (AWS_REGION, the profile) */
  region?: string;
  /** @default the `service:` of serverless.yml in `root` */
  service?: string;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** 0 = any free port. @default 0 */
  port?: number;
  /** The token every action must carry. @default 24 random bytes, base64url */
  token?: string;
  /** Host names the pages answer to besides 127.0.0.1 and localhost (DNS rebinding check). */
  allowedHosts?: string[];
  /** The stack's resources; @default resolved like `--stage` (stack outputs, BERTH_* env overrides) */
  resources?: StackResources;
  /** Wraps the request handler (an authentication in front of the pages). */
  wrap?: (handler: RequestHandler) => RequestHandler;
  /** With `wrap`: the path that signs out (the pages show a Sign out button posting to it). */
  signOutPath?: string;
  /** One endpoint for every AWS client (tests: moto). @default AWS_ENDPOINT_URL or the SDK's */
  endpoint?: string;
  /** Project folder: serverless.yml and the job files. @default process.cwd() */
  root?: string;
  /** Job files folder, relative to `root`. @default 'jobs' */
  jobsDir?: string;
  /** The jobs, instead of loading the job files (a container without the project). */
  jobs?: Job[];
  /** How often the shared poll reads the runs table while a page is open. @default 5000 */
  pollMs?: number;
}

export interface RunningConsole {
  url: string;
  port: number;
  token: string;
  /** The source: its `calls` and `readUnits` count what the console asked AWS. */
  source: AwsConsoleSource;
  close(): Promise<void>;
}

/** A path that answers 200 without data, for load balancers and App Runner's health check. */
export const HEALTH_PATH = '/healthz';

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const root = options.root ?? process.cwd();
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const stageArgs = {
    stage: options.stage,
    root,
    ...(options.service ? { service: options.service } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
  const service = serviceName(stageArgs);
  const resources = options.resources ?? (await resolveStack(stageArgs));
  const jobs =
    options.jobs ??
    (await loadJobsOrThrow({ root, ...(options.jobsDir ? { jobsDir: options.jobsDir } : {}) }));
  const source = new AwsConsoleSource({
    stage: options.stage,
    service,
    resources,
    jobs,
    ...(options.region ? { region: options.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  });
  const token = options.token ?? randomBytes(24).toString('base64url');
  const allowedHosts = options.allowedHosts ?? [];
  const dashboard = createDashboard(source, {
    token,
    allowedHosts,
    ...(options.signOutPath ? { signOutPath: options.signOutPath } : {}),
  });

  const handler: RequestHandler = async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('ok\n');
      return;
    }
    if (!isAllowedHost(req, allowedHosts)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`this console answers only to ${['127.0.0.1', 'localhost', ...allowedHosts].join(', ')}\n`);
      return;
    }
    if (await dashboard(req, res)) return;
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  };
  const wrapped = options.wrap ? options.wrap(handler) : handler;
  const server = createServer((req, res) => {
    Promise.resolve(wrapped(req, res)).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`${error instanceof Error ? error.message : String(error)}\n`);
      } else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    token,
    source,
    close: async () => {
      source.close();
      // Open event streams would hold close() forever.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A real HTTP server on 127.0.0.1 that mounts the dashboard the way the engine does. */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { createDashboard, type DashboardOptions } from '../../src/dashboard/index.js';
import type { DashboardSource } from '../../src/dashboard/source.js';

export interface Harness {
  server: Server;
  port: number;
  base: string;
  close(): Promise<void>;
}

export const ENGINE_FALLBACK_BODY = 'engine route\n';

/** Debian's chromium (never a downloaded browser). */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless chromium that makes no network calls of its own; `extraArgs` come after these defaults. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

export async function startHarness(api: DashboardSource, options: DashboardOptions): Promise<Harness> {
  const dashboard = createDashboard(api, options);
  const server = createServer((req, res) => {
    dashboard(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end(ENGINE_FALLBACK_BODY);
        }
      },
      (error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with exactly the headers given (fetch would add and forbid some, such as Host and Origin). */
export function raw(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: {
          ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...options.headers,
        },
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Reads server-sent events from a stream until `until` returns true or the time runs out. */
export function readEvents(
  port: number,
  path: string,
  until: (events: { event: string; data: unknown }[]) => boolean,
  options: { timeoutMs?: number; onOpen?: () => void } = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: { event: string; data: unknown }[];
}> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: unknown }[] = [];
    const req = request(
      { host: '127.0.0.1', port, path, headers: { Accept: 'text/event-stream' } },
      (res) => {
        let buffer = '';
        const timer = setTimeout(() => {
          req.destroy();
          reject(new Error(`no matching events within the time limit; got ${JSON.stringify(events)}`));
        }, options.timeoutMs ?? 5000);
        const done = () => {
          clearTimeout(timer);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, events });
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            const lines = block.split('\n');
            const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
            const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
            if (event && data !== undefined) events.push({ event, data: JSON.parse(data) as unknown });
          }
          if (until(events)) done();
        });
        if (res.statusCode !== 200) done();
        else options.onOpen?.();
      },
    );
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}

/**
 * A test server in a child process (moto, docker-registry) on a free 127.0.0.1 port: start it, poll its probe
 * URL until it answers as ready, and stop it afterwards (SIGTERM, SIGKILL after 5 s). Fails loudly, with the
 * server's last stderr, when it exits or does not answer in time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A port nothing listens on at the moment of asking (127.0.0.1). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  stop(): Promise<void>;
}

export async function startServerProcess(options: {
  /** The server's name in errors. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** The URL polled until `ready` accepts its HTTP status. */
  probeUrl: string;
  ready: (status: number) => boolean;
  timeoutMs: number;
  pollMs: number;
}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(options.command, options.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(options.env ? { env: options.env } : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.name} exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(options.probeUrl);
      if (options.ready(res.status)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `${options.name} did not answer on ${new URL(options.probeUrl).origin} within ${options.timeoutMs} ms: ${stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

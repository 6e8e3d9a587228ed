/**
 * The console's entry in its App Runner image (`custom.berth.console.appRunner`, src/compiler/appRunner.ts;
 * the image: src/console/image.ts). It listens on 0.0.0.0:$PORT (8080, the port the service is given), takes
 * the stack's resources and the sign-in token from the environment the service sets, the jobs from the
 * manifest bundled into the image, and puts the sign-in (src/console/auth.ts) in front of every page.
 *
 * Hosts: App Runner serves the console under `<id>.<region>.awsapprunner.com` (public URL, and the private
 * VPC ingress connection's domain), unknown until the service exists, so `*.awsapprunner.com` is allowed;
 * `BERTH_CONSOLE_HOSTS` (comma-separated) adds custom domains.
 */
import { pathToFileURL } from 'node:url';
import { CONSOLE_ENV, CONSOLE_PORT } from '../compiler/appRunner.js';
import { loadManifest } from '../runtime/aws/manifest.js';
import { consoleAuth, LOGOUT_PATH } from './auth.js';
import { type RunningConsole, startConsole } from './server.js';

/** The names App Runner serves a service under. */
export const APP_RUNNER_HOSTS = ['*.awsapprunner.com'] as const;
/** Extra host names (custom domains), comma-separated. */
export const EXTRA_HOSTS_ENV = 'BERTH_CONSOLE_HOSTS';
/** The interface to listen on (tests: 127.0.0.1). @default 0.0.0.0, where App Runner sends requests */
export const LISTEN_ENV = 'BERTH_CONSOLE_LISTEN';

export interface AppRunnerConsoleOptions {
  env?: NodeJS.ProcessEnv;
  /** Interface to listen on. @default $BERTH_CONSOLE_LISTEN, else '0.0.0.0' */
  host?: string;
  /** One endpoint for every AWS client (tests: moto). */
  endpoint?: string;
}

export async function startAppRunnerConsole(options: AppRunnerConsoleOptions = {}): Promise<RunningConsole> {
  const env = options.env ?? process.env;
  const need = (name: string): string => {
    const value = env[name];
    if (!value)
      throw new Error(
        `${name} is not set — the App Runner service of custom.berth.console.appRunner sets it; redeploy the stack`,
      );
    return value;
  };
  const token = need(CONSOLE_ENV.token);
  const manifest = loadManifest();
  const allowedHosts = [
    ...APP_RUNNER_HOSTS,
    ...(env[EXTRA_HOSTS_ENV] ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
  ];
  const region = env[CONSOLE_ENV.region];
  return startConsole({
    stage: env[CONSOLE_ENV.stage] ?? manifest.stage,
    service: env[CONSOLE_ENV.service] ?? manifest.service,
    ...(region ? { region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    host: options.host ?? env[LISTEN_ENV] ?? '0.0.0.0',
    port: Number(env.PORT ?? CONSOLE_PORT),
    allowedHosts,
    resources: {
      runsTable: need(CONSOLE_ENV.runsTable),
      launchQueueUrl: need(CONSOLE_ENV.launchQueueUrl),
      cluster: need(CONSOLE_ENV.cluster),
    },
    jobs: manifest.jobs,
    wrap: consoleAuth({ token, allowedHosts }),
    signOutPath: LOGOUT_PATH,
  });
}

/** Run as the image's entry (`node /app/index.mjs`): start, log the port, stop cleanly on SIGTERM. */
async function main(): Promise<void> {
  const running = await startAppRunnerConsole();
  process.stdout.write(`berth console listening on port ${running.port}\n`);
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`berth console: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

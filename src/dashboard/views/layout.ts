import { type Html, html } from '../html.js';

export type View = 'jobs' | 'job' | 'runs' | 'run' | 'error';

export interface PageOptions {
  title: string;
  view: View;
  token: string;
  /** The SSE URL this page listens to; none for pages without live parts. */
  events?: string;
  body: Html;
  /** Job or subscriber files that fail to load (berth dev keeps their last good version): a banner. */
  problems?: readonly string[];
  /** What the pages show: `dev` (berth dev) or e.g. `stage prod (eu-west-1)` (berth console). @default 'dev' */
  source?: string;
  /**
   * Where the header's Sign out button posts (the console behind its sign-in, src/console/auth.ts); no button
   * without it (berth dev, a console on 127.0.0.1).
   */
  signOut?: string;
}

/**
 * The page shell: landmarks, a skip link, the main navigation and one status region where the script
 * announces the result of every action. The token sits in a meta tag: only a same-origin page can read it.
 */
export function page(options: PageOptions): Html {
  const current = (view: View) =>
    options.view === view ||
    (view === 'runs' && options.view === 'run') ||
    (view === 'jobs' && options.view === 'job')
      ? 'page'
      : null;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="berth-token" content="${options.token}">
<title>${options.title} · berth ${options.source ?? 'dev'}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body data-view="${options.view}"${options.events ? html` data-events="${options.events}"` : ''}>
<a class="skip-link" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">berth <span>${options.source ?? 'dev'}</span></a>
  <nav aria-label="Main">
    <ul>
      <li><a href="/"${current('jobs') ? html` aria-current="page"` : ''}>Jobs</a></li>
      <li><a href="/runs"${current('runs') ? html` aria-current="page"` : ''}>Runs</a></li>
    </ul>
  </nav>
  ${options.events ? html`<p class="live-state" id="live-state" data-state="connecting">connecting…</p>` : ''}
  ${
    options.signOut
      ? html`<form class="sign-out" method="post" action="${options.signOut}"><button type="submit">Sign out</button></form>`
      : ''
  }
</header>
<main id="main" tabindex="-1">
${
  options.problems?.length
    ? html`<section class="load-problems" role="alert" aria-labelledby="load-problems-title">
  <h2 id="load-problems-title">A file does not load — berth dev keeps its last good version</h2>
  <ul class="load-problems-list">${options.problems.map((p) => html`<li><code>${p}</code></li>`)}</ul>
  <p>Fix the file and save it: the change applies within a second.</p>
</section>`
    : ''
}
${options.body}
</main>
<div class="announce" id="announce" role="status" aria-live="polite"></div>
</body>
</html>
`;
}

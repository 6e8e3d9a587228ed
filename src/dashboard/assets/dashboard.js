// berth dev dashboard: actions with the per-start token, live updates over SSE, log tailing, duration bars.
// No framework: the server renders escaped HTML; this file only moves it into place.

(() => {
  const token = document.querySelector('meta[name="berth-token"]')?.getAttribute('content') ?? '';
  const announceEl = document.getElementById('announce');
  const LOG_POLL_MS = 1000;

  /** Tells the user (and screen readers, through role=status) what an action did. */
  function announce(message, kind = 'info', link) {
    if (!announceEl) return;
    announceEl.replaceChildren();
    const p = document.createElement('p');
    p.className = `note note-${kind}`;
    p.textContent = message;
    if (link) {
      p.append(' ');
      const a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.text;
      p.append(a);
    }
    announceEl.append(p);
  }

  /** `1 run`, `3 runs`: a count with its noun in the proper number. */
  function plural(n, one, many = `${one}s`) {
    return `${n} ${n === 1 ? one : many}`;
  }

  // ---- relative times beside absolute ones: `4 min ago`, `in 2 h` (hover shows the UTC time) ----
  // The same rules as formatRelative in src/dashboard/format.ts; test/dashboard/format.test.ts checks both.
  function formatRelative(ms) {
    const ahead = ms > 0;
    const s = Math.round(Math.abs(ms) / 1000);
    let text;
    if (s < 5) return 'just now';
    if (s < 60) text = `${s} s`;
    else if (s < 3600) text = `${Math.floor(s / 60)} min`;
    else if (s < 86400) text = `${Math.floor(s / 3600)} h`;
    else {
      const d = Math.floor(s / 86400);
      text = `${d} ${d === 1 ? 'day' : 'days'}`;
    }
    return ahead ? `in ${text}` : `${text} ago`;
  }

  function updateRelativeTimes() {
    const now = Date.now();
    document.querySelectorAll('.ago[data-ago]').forEach((el) => {
      const at = Date.parse(el.dataset.ago);
      if (!Number.isNaN(at)) el.textContent = formatRelative(at - now);
    });
  }

  async function post(url, body) {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Berth-Token': token },
      body: body === undefined ? '' : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await res.json();
    } catch {
      // A non-JSON answer is reported by status below.
    }
    if (!res.ok) throw new Error(data?.error ?? `the server answered ${res.status}`);
    return data;
  }

  function describeResult(result) {
    if (!result) return { message: 'Done.' };
    if (Array.isArray(result.results)) {
      const accepted = result.results.filter((r) => r.status === 'accepted' || r.status === 'queued').length;
      return { message: `Replayed ${plural(accepted, 'failed run')}.` };
    }
    if (result.cancelled) return { message: `Cancelling run ${result.runId}.` };
    if (result.status === 'accepted') {
      return {
        message: 'Run accepted:',
        link: { href: `/runs/${encodeURIComponent(result.runId)}`, text: result.runId },
      };
    }
    if (result.status === 'queued') {
      // A deployed stage: the launcher starts the run when it takes the message from the launch queue.
      return {
        message: 'Queued on the launch queue as',
        link: { href: `/runs/${encodeURIComponent(result.runId)}`, text: result.runId },
      };
    }
    if (typeof result.messages === 'number') {
      return {
        message: `Moved ${result.messages} dead-letter message${result.messages === 1 ? '' : 's'} back to the queue.`,
      };
    }
    if (result.status === 'duplicate') {
      return {
        message: 'Already accepted before:',
        link: { href: `/runs/${encodeURIComponent(result.runId)}`, text: result.runId },
      };
    }
    if (result.status === 'skipped') return { message: `Skipped: ${result.reason}` };
    return { message: 'Done.' };
  }

  async function runAction(button, url, body) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      const { message, link } = describeResult(await post(url, body));
      announce(message, 'ok', link);
      // An action that empties what it acts on (Redrive of a queue's dead letters) goes once done; focus moves
      // to the page's first action rather than to nowhere.
      if (button.dataset.goneAfter === 'true') {
        const focused = document.activeElement === button;
        button.closest('[data-job-dead-letters]')?.replaceChildren();
        button.remove();
        if (focused) document.querySelector('main button, main textarea')?.focus();
      }
    } catch (error) {
      announce(`Failed: ${error.message}`, 'error');
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  // Event delegation: buttons inside fragments that SSE replaces keep working.
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-post]') : null;
    if (!button) return;
    event.preventDefault();
    // Cancel (and any other action that cannot be taken back) asks first.
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      announce('Nothing was done.', 'info');
      return;
    }
    runAction(button, button.dataset.post);
  });

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.action) return;
    event.preventDefault();
    const field = form.elements.namedItem('payload');
    const error = field ? document.getElementById(field.getAttribute('aria-describedby') ?? '') : null;
    let body = {};
    const text = field?.value.trim() ?? '';
    if (text) {
      try {
        body = { payload: JSON.parse(text) };
      } catch (e) {
        field.setAttribute('aria-invalid', 'true');
        if (error) error.textContent = `Not JSON: ${e.message}`;
        field.focus();
        return;
      }
    }
    field?.removeAttribute('aria-invalid');
    if (error) error.textContent = '';
    // An S3-triggered job run for an object: the server builds the S3-shaped trigger.
    const key = form.elements.namedItem('key')?.value.trim() ?? '';
    if (key) {
      if (text) {
        field.setAttribute('aria-invalid', 'true');
        if (error) error.textContent = 'Give a payload or an object key, not both';
        return;
      }
      const bucket = form.elements.namedItem('bucket')?.value;
      body = { s3: bucket ? { bucket, key } : { key } };
    }
    const button = form.querySelector('button[type="submit"]');
    runAction(button ?? form, form.dataset.action, body);
  });

  /** Parses trusted server-rendered markup into nodes without running anything. */
  function fragment(markup, context = 'div') {
    const t = document.createElement('template');
    t.innerHTML = context === 'tbody' ? `<table><tbody>${markup}</tbody></table>` : markup;
    return context === 'tbody' ? t.content.querySelector('tbody') : t.content;
  }

  // ---- duration bars: each run against the longest run on the page ----
  // The same rules as src/core/duration.ts formatDuration (the page has no build step to import it);
  // test/dashboard/format.test.ts checks that the two agree.
  function formatDuration(ms) {
    if (ms < 1000) return `${Math.round(ms)}ms`;
    const total = Math.round(ms / 1000);
    const d = Math.floor(total / 86400);
    const h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    let out = '';
    if (d) out += `${d}d`;
    if (h) out += `${h}h`;
    if (m) out += `${m}m`;
    if (s || out === '') out += `${s}s`;
    return out;
  }

  function updateBars() {
    const rows = [...document.querySelectorAll('tr[data-run-id]')];
    const now = Date.now();
    const durations = rows.map((row) => {
      const start = Date.parse(row.dataset.created);
      const end = row.dataset.ended ? Date.parse(row.dataset.ended) : now;
      return Math.max(0, end - start);
    });
    const longest = Math.max(1, ...durations);
    rows.forEach((row, i) => {
      const ms = durations[i] ?? 0;
      const fill = row.querySelector('.bar .fill');
      // The CSSOM is allowed by the page's CSP (style attributes in markup are not).
      if (fill) fill.style.width = `${Math.max(1, (ms / longest) * 100).toFixed(1)}%`;
      if (!row.dataset.ended) {
        const text = row.querySelector('.duration-text');
        if (text) text.textContent = formatDuration(ms);
      }
    });
  }

  function updateCount() {
    const count = document.getElementById('runs-count');
    const n = document.querySelectorAll('tr[data-run-id]').length;
    if (count) count.textContent = `${plural(n, 'run')}, updated live`;
    const empty = document.getElementById('runs-empty');
    if (empty && n > 0) empty.remove();
    // The job page keeps its recent-runs table hidden until the first run.
    if (n > 0) document.querySelector('[data-runs-table][hidden]')?.removeAttribute('hidden');
  }

  function applyRun(data) {
    const tbody = document.getElementById('run-rows');
    if (!tbody) return;
    const existing = document.getElementById(`run-${data.runId}`);
    if (data.remove) {
      existing?.remove();
    } else {
      const row = fragment(data.html, 'tbody').querySelector('tr');
      if (!row) return;
      if (existing) existing.replaceWith(row);
      else {
        // Newest first: insert before the first row created earlier.
        const created = Date.parse(row.dataset.created);
        const after = [...tbody.querySelectorAll('tr[data-run-id]')].find(
          (r) => Date.parse(r.dataset.created) <= created,
        );
        tbody.insertBefore(row, after ?? null);
      }
      row.classList.add('flash');
      // Keep the page to the same number of runs the server would render.
      const limit = Number(tbody.dataset.limit ?? 0);
      const rows = tbody.querySelectorAll('tr[data-run-id]');
      for (let i = limit; limit > 0 && i < rows.length; i++) rows[i]?.remove();
    }
    updateCount();
    updateBars();
  }

  // ---- logs: read on from the cursor until the attempt has ended and nothing more is there ----
  const tails = new Map();

  /** Appends lines as `<span class="ln" data-stream>`; a partial last line is continued by the next read. */
  function appendLines(pre, lines, partial) {
    let i = 0;
    if (pre.dataset.partial === 'true' && lines.length > 0 && pre.lastElementChild) {
      pre.lastElementChild.append(lines[0].text);
      i = 1;
      if (lines.length > 1 || !partial) pre.append('\n');
    }
    for (; i < lines.length; i++) {
      const span = document.createElement('span');
      span.className = 'ln';
      span.dataset.stream = lines[i].stream;
      span.textContent = lines[i].text;
      pre.append(span);
      if (i < lines.length - 1 || !partial) pre.append('\n');
    }
    if (lines.length > 0) pre.dataset.partial = partial ? 'true' : 'false';
  }

  function startTail(pre) {
    if (tails.has(pre)) return;
    const state = { stopped: false };
    tails.set(pre, state);
    let pollMs = LOG_POLL_MS;
    const tick = async () => {
      if (state.stopped || !pre.isConnected) return;
      let more = false;
      try {
        const res = await fetch(`${pre.dataset.log}?offset=${encodeURIComponent(pre.dataset.offset ?? '')}`, {
          credentials: 'same-origin',
        });
        if (res.ok) {
          const read = await res.json();
          if (read.reset) {
            pre.textContent = '';
            pre.dataset.partial = 'false';
          }
          if (read.lines.length > 0) {
            const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
            appendLines(pre, read.lines, read.partial);
            if (atBottom) pre.scrollTop = pre.scrollHeight;
          }
          pre.dataset.offset = read.next;
          more = read.more;
          // A deployed stage's console reads logs less often (CloudWatch Logs' request rate).
          if (read.pollMs > 0) pollMs = read.pollMs;
        }
      } catch {
        // The engine may be restarting; keep trying.
      }
      if (pre.dataset.ended === 'true' && !more) {
        state.stopped = true;
        return;
      }
      setTimeout(tick, more ? 50 : pollMs);
    };
    tick();
  }

  function startTails() {
    document.querySelectorAll('pre[data-log]').forEach((pre) => {
      startTail(pre);
    });
  }

  /** A run queued from here that the launcher had not started when the page was served (see pendingRunView). */
  const pendingRun = document.getElementById('run-pending');

  function applyDetail(data) {
    // The run now exists: show its page.
    if (pendingRun) {
      location.reload();
      return;
    }
    const live = document.getElementById('run-live');
    if (!live) return;
    // Keep focus on the same action when its button is re-rendered.
    const focused = document.activeElement?.closest?.('#run-live [data-post]')?.dataset.post;
    live.replaceChildren(fragment(data.html));
    if (focused) live.querySelector(`[data-post="${CSS.escape(focused)}"]`)?.focus();
    const logs = document.getElementById('logs');
    for (const a of data.attempts) {
      const panel = document.getElementById(`log-${a.attempt}`);
      if (panel) {
        const pre = panel.querySelector('pre[data-log]');
        if (pre && a.ended && pre.dataset.ended !== 'true') {
          pre.dataset.ended = 'true';
          // Read the rest once more, then stop.
          const state = tails.get(pre);
          if (state?.stopped) {
            tails.delete(pre);
            startTail(pre);
          }
        }
        const label = panel.querySelector('[data-log-state]');
        if (label) label.textContent = a.state;
      } else if (logs) {
        document.getElementById('logs-empty')?.remove();
        document.querySelectorAll('#logs details[open]').forEach((d) => {
          d.open = false;
        });
        logs.append(fragment(a.html));
        const pre = document.querySelector(`#log-${a.attempt} pre[data-log]`);
        if (pre) startTail(pre);
      }
    }
  }

  function applyJob(data) {
    const stats = document.querySelector(`[data-job-stats="${CSS.escape(data.job)}"]`);
    if (stats) stats.replaceChildren(fragment(data.html));
    const dead = document.querySelector(`[data-job-dead-letters="${CSS.escape(data.job)}"]`);
    if (dead && typeof data.deadLetters === 'string') dead.replaceChildren(fragment(data.deadLetters));
  }

  function applyWorkers(data) {
    const panel = document.querySelector(`[data-job-workers="${CSS.escape(data.job)}"]`);
    if (panel) panel.replaceChildren(fragment(data.html));
  }

  // ---- the live connection ----
  async function reloadRows() {
    const tbody = document.getElementById('run-rows');
    if (!tbody) return;
    const url = new URL(location.href);
    url.searchParams.set('partial', 'rows');
    const res = await fetch(url, { credentials: 'same-origin' });
    if (res.ok) {
      tbody.replaceChildren(...fragment(await res.text(), 'tbody').children);
      updateCount();
      updateBars();
    }
  }

  function connect() {
    const src = document.body.dataset.events;
    if (!src || typeof EventSource === 'undefined') return;
    const state = document.getElementById('live-state');
    const setState = (value, text) => {
      if (!state) return;
      state.dataset.state = value;
      state.textContent = text;
    };
    let opened = false;
    const es = new EventSource(src);
    es.addEventListener('open', () => {
      setState('live', 'live');
      // After a reconnect, catch up on what happened while the stream was down.
      if (opened) reloadRows().catch(() => {});
      opened = true;
    });
    es.addEventListener('error', () => setState('down', 'reconnecting…'));
    es.addEventListener('run', (e) => applyRun(JSON.parse(e.data)));
    es.addEventListener('detail', (e) => applyDetail(JSON.parse(e.data)));
    es.addEventListener('job', (e) => applyJob(JSON.parse(e.data)));
    es.addEventListener('workers', (e) => applyWorkers(JSON.parse(e.data)));
    es.addEventListener('problem', (e) => announce(JSON.parse(e.data).message, 'error'));
    window.addEventListener('pagehide', () => es.close());
  }

  updateBars();
  if (document.getElementById('run-rows')) setInterval(updateBars, 1000);
  updateRelativeTimes();
  setInterval(updateRelativeTimes, 10_000);
  startTails();
  connect();
  // Besides the event stream (the run appearing), look again now and then: one read of the run.
  if (pendingRun) setTimeout(() => location.reload(), 10_000);
})();

/**
 * Attempt logs for the dashboard: read as lines by the source (`DashboardSource.readLog`), rendered into a
 * `<pre>` one `<span>` per line (its stream in `data-stream`), and tailed by the script with the read's cursor.
 * The file reader of `berth dev` and the line types live in src/runtime/logs.ts.
 */
import type { LogLine } from '../runtime/logs.js';
import { type Html, html } from './html.js';

export {
  DEFAULT_LOG_TAIL,
  incompleteUtf8Tail,
  type LogLine,
  type LogRead,
  type LogStream,
  leadingContinuationBytes,
  lineStream,
  MAX_LOG_READ_BYTES,
  MAX_LOG_TAIL_BYTES,
  type ReadLogOptions,
  readLogFile,
} from '../runtime/logs.js';

/**
 * The lines of a log read as markup for a `<pre>`: one `<span class="ln" data-stream>` per line, each
 * followed by a line break except a `partial` last line (the next read continues it).
 */
export function logLinesHtml(lines: readonly LogLine[], partial: boolean): Html {
  return html`${lines.map(
    (l, i) =>
      html`<span class="ln" data-stream="${l.stream}">${l.text}</span>${i < lines.length - 1 || !partial ? '\n' : ''}`,
  )}`;
}

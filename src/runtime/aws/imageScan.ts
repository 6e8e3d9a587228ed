/**
 * ECR's scan of a pushed image: wait for it (bounded, with progress), read its findings (basic and enhanced
 * scanning alike), decide the scan gate (`custom.berth.images.failOn`) and print the findings as a table.
 */
import {
  DescribeImageScanFindingsCommand,
  type DescribeImageScanFindingsResponse,
  type ECRClient,
  type ImageScanFindings,
} from '@aws-sdk/client-ecr';
import { BerthError } from '../../core/errors.js';

/** Severities from the worst down; ECR's basic scanning uses these, enhanced scanning adds UNTRIAGED. */
export const SEVERITY_ORDER = [
  'CRITICAL',
  'HIGH',
  'MEDIUM',
  'LOW',
  'INFORMATIONAL',
  'UNTRIAGED',
  'UNDEFINED',
] as const;

export interface Finding {
  severity: string;
  /** `name@version`, or `—` when the scanner does not say. */
  package: string;
  /** CVE (or other vulnerability) id. */
  id: string;
  /** Version that fixes it (enhanced scanning only), or `—`. */
  fixedIn: string;
}

export class ScanGateError extends BerthError {
  override name = 'ScanGateError';
}

function rank(severity: string): number {
  const i = (SEVERITY_ORDER as readonly string[]).indexOf(severity);
  return i === -1 ? SEVERITY_ORDER.length : i;
}

/** The findings of one response, basic (`findings`) and enhanced (`enhancedFindings`), worst first. */
export function findingsOf(scan: ImageScanFindings | undefined): Finding[] {
  const out: Finding[] = [];
  for (const f of scan?.findings ?? []) {
    const attr = (key: string) => f.attributes?.find((a) => a.key === key)?.value;
    const name = attr('package_name');
    const version = attr('package_version');
    out.push({
      severity: f.severity ?? 'UNDEFINED',
      package: name ? `${name}${version ? `@${version}` : ''}` : '—',
      id: f.name ?? '—',
      // Basic scanning does not report a fixed version.
      fixedIn: '—',
    });
  }
  for (const f of scan?.enhancedFindings ?? []) {
    const details = f.packageVulnerabilityDetails;
    const packages = details?.vulnerablePackages?.length ? details.vulnerablePackages : [undefined];
    for (const p of packages) {
      out.push({
        severity: f.severity ?? 'UNDEFINED',
        package: p?.name ? `${p.name}${p.version ? `@${p.version}` : ''}` : '—',
        id: details?.vulnerabilityId ?? f.title ?? '—',
        fixedIn: p?.fixedInVersion && p.fixedInVersion !== 'NotAvailable' ? p.fixedInVersion : '—',
      });
    }
  }
  return out.sort((a, b) => rank(a.severity) - rank(b.severity) || a.id.localeCompare(b.id));
}

/** Severity counts of a scan (ECR's own summary, else counted from the findings). */
export function severityCounts(scan: ImageScanFindings | undefined): Record<string, number> {
  const given = scan?.findingSeverityCounts;
  if (given && Object.keys(given).length) return { ...given } as Record<string, number>;
  const counts: Record<string, number> = {};
  for (const f of findingsOf(scan)) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return counts;
}

/** The severities at or above `failOn` that the scan found (empty: the image may deploy). */
export function blockingSeverities(counts: Record<string, number>, failOn: 'CRITICAL' | 'HIGH'): string[] {
  const limit = rank(failOn);
  return Object.entries(counts)
    .filter(([severity, n]) => n > 0 && rank(severity) <= limit)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([severity]) => severity);
}

/** `CRITICAL 1 · HIGH 3`, worst first; `no findings` when clean. */
export function countsText(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([s, n]) => `${s} ${n}`);
  return parts.length ? parts.join(' · ') : 'no findings';
}

/** A plain-text table: severity, package, CVE, fixed in. At most `limit` rows, then a count of the rest. */
export function findingsTable(findings: readonly Finding[], limit = 30): string {
  const header = ['SEVERITY', 'PACKAGE', 'CVE', 'FIXED IN'];
  const rows = findings.slice(0, limit).map((f) => [f.severity, f.package, f.id, f.fixedIn]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [line(header), ...rows.map(line)];
  if (findings.length > limit) lines.push(`… and ${findings.length - limit} more`);
  return lines.join('\n');
}

export interface WaitForScanOptions {
  /** Longest wait. */
  timeoutMs: number;
  /** Time between polls. @default 5000 */
  intervalMs?: number;
  onProgress?: (status: string, elapsedMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const PENDING = new Set(['IN_PROGRESS', 'PENDING']);
/** Findings are there: a finished basic scan, or enhanced scanning's continuous `ACTIVE`. */
const DONE = new Set(['COMPLETE', 'ACTIVE']);

/**
 * Polls DescribeImageScanFindings until the scan is COMPLETE (all pages of findings gathered), fails, or the
 * time runs out. A scan ECR has not started yet (ScanNotFoundException right after the push) counts as pending.
 */
export async function waitForScan(
  ecr: ECRClient,
  image: { repositoryName: string; imageDigest: string },
  options: WaitForScanOptions,
): Promise<DescribeImageScanFindingsResponse> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const interval = options.intervalMs ?? 5000;
  const start = now();
  for (;;) {
    let status: string;
    let response: DescribeImageScanFindingsResponse | undefined;
    try {
      response = await ecr.send(
        new DescribeImageScanFindingsCommand({
          repositoryName: image.repositoryName,
          imageId: { imageDigest: image.imageDigest },
        }),
      );
      status = response.imageScanStatus?.status ?? 'IN_PROGRESS';
    } catch (error) {
      if ((error as { name?: string }).name !== 'ScanNotFoundException') throw error;
      status = 'NOT_STARTED';
    }
    const elapsed = now() - start;
    options.onProgress?.(status, elapsed);
    if (response && DONE.has(status)) return gatherPages(ecr, image, response);
    if (response && !PENDING.has(status)) {
      throw new ScanGateError(
        `${image.repositoryName}@${image.imageDigest}: the scan ended ${status}${response.imageScanStatus?.description ? ` (${response.imageScanStatus.description})` : ''} — fix the cause, or remove custom.berth.images.failOn to deploy unscanned`,
      );
    }
    if (elapsed + interval > options.timeoutMs) {
      throw new ScanGateError(
        `${image.repositoryName}@${image.imageDigest}: the scan did not finish within ${Math.round(options.timeoutMs / 1000)} s (last status ${status}) — deploy again later, or raise custom.berth.images.scanTimeoutSeconds`,
      );
    }
    await sleep(interval);
  }
}

async function gatherPages(
  ecr: ECRClient,
  image: { repositoryName: string; imageDigest: string },
  first: DescribeImageScanFindingsResponse,
): Promise<DescribeImageScanFindingsResponse> {
  const scan: ImageScanFindings = { ...first.imageScanFindings };
  let token = first.nextToken;
  for (let page = 0; token && page < 50; page++) {
    const next = await ecr.send(
      new DescribeImageScanFindingsCommand({
        repositoryName: image.repositoryName,
        imageId: { imageDigest: image.imageDigest },
        nextToken: token,
      }),
    );
    scan.findings = [...(scan.findings ?? []), ...(next.imageScanFindings?.findings ?? [])];
    scan.enhancedFindings = [
      ...(scan.enhancedFindings ?? []),
      ...(next.imageScanFindings?.enhancedFindings ?? []),
    ];
    token = next.nextToken;
  }
  return { ...first, imageScanFindings: scan, nextToken: undefined };
}

/**
 * The scan gate: throws a `ScanGateError` with the findings table when the scan found `failOn` or worse.
 * Returns the severity counts otherwise.
 */
export function checkScanGate(
  job: string,
  reference: string,
  response: DescribeImageScanFindingsResponse,
  failOn: 'CRITICAL' | 'HIGH',
): Record<string, number> {
  const counts = severityCounts(response.imageScanFindings);
  const blocking = blockingSeverities(counts, failOn);
  if (blocking.length === 0) return counts;
  const findings = findingsOf(response.imageScanFindings).filter((f) => rank(f.severity) <= rank(failOn));
  const total = blocking.reduce((n, s) => n + (counts[s] ?? 0), 0);
  throw new ScanGateError(
    `image of job ${job} (${reference}) has ${countsText(Object.fromEntries(blocking.map((s) => [s, counts[s]!])))} ${total === 1 ? 'finding' : 'findings'}, at or above failOn ${failOn} — update the packages below (or the base image) and deploy again; the stack was not updated\n${findingsTable(findings)}`,
  );
}

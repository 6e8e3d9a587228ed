/**
 * `berth image list --stage <stage>`: each built job's current image (the one its deployed task definition
 * pins, else the newest image tagged `<job>-…`) with its tags, push time, size and scan summary.
 */
import {
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  type ECRClient,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import { DescribeTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { ImagesConfig } from '../../compiler/config.js';
import { buildJobs, imageRepositories, jobTagPrefix } from '../../compiler/ecr.js';
import type { Names } from '../../compiler/naming.js';
import type { Job } from '../../core/model/job.js';
import { countsText } from './imageScan.js';

export interface JobImage {
  job: string;
  repository: string;
  /** `<repository uri>@sha256:…`, or undefined when the job has no image yet. */
  reference?: string;
  digest?: string;
  tags: string[];
  pushedAt?: string;
  sizeBytes?: number;
  /** Where the image was found: the deployed task definition, or the newest tagged image. */
  source: 'task-definition' | 'newest-tag' | 'none';
  scan: { status: string; counts: Record<string, number> };
}

function errorName(error: unknown): string {
  return (error as { name?: string }).name ?? '';
}

/** The digest the deployed task definition of the job pins, when there is one. */
async function deployedDigest(
  ecs: ECSClient,
  family: string,
): Promise<{ digest: string; image: string } | undefined> {
  try {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
    const image = out.taskDefinition?.containerDefinitions?.[0]?.image;
    const at = image?.indexOf('@sha256:') ?? -1;
    if (!image || at === -1) return undefined;
    return { digest: image.slice(at + 1), image };
  } catch (error) {
    if (
      /ClientException|InvalidParameter/.test(errorName(error)) ||
      /Unable to describe/.test((error as Error).message)
    )
      return undefined;
    throw error;
  }
}

async function imagesOf(ecr: ECRClient, repositoryName: string): Promise<ImageDetail[]> {
  const out: ImageDetail[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await ecr.send(
        new DescribeImagesCommand({ repositoryName, nextToken, filter: { tagStatus: 'TAGGED' } }),
      );
      out.push(...(page.imageDetails ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    if (errorName(error) === 'RepositoryNotFoundException') return [];
    throw error;
  }
  return out;
}

async function scanOf(
  ecr: ECRClient,
  repositoryName: string,
  imageDigest: string,
): Promise<JobImage['scan']> {
  try {
    const out = await ecr.send(
      new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageDigest }, maxResults: 1 }),
    );
    return {
      status: out.imageScanStatus?.status ?? 'UNKNOWN',
      counts: { ...(out.imageScanFindings?.findingSeverityCounts ?? {}) } as Record<string, number>,
    };
  } catch (error) {
    if (errorName(error) === 'ScanNotFoundException') return { status: 'NOT_SCANNED', counts: {} };
    throw error;
  }
}

export interface ListJobImagesInput {
  jobs: readonly Job[];
  names: Names;
  images: ImagesConfig;
  ecs: ECSClient;
  ecr: ECRClient;
}

export async function listJobImages(input: ListJobImagesInput): Promise<JobImage[]> {
  const out: JobImage[] = [];
  const repos = imageRepositories(input.jobs, input.names, input.images);
  const details = new Map<string, Promise<ImageDetail[]>>();
  for (const job of buildJobs(input.jobs).sort((a, b) => a.name.localeCompare(b.name))) {
    const repo = repos.find((r) => r.jobs.includes(job.name))!;
    if (!details.has(repo.name)) details.set(repo.name, imagesOf(input.ecr, repo.name));
    const all = await details.get(repo.name)!;
    const deployed = await deployedDigest(input.ecs, input.names.taskFamily(job.name));
    let detail = deployed ? all.find((d) => d.imageDigest === deployed.digest) : undefined;
    let source: JobImage['source'] = detail ? 'task-definition' : 'none';
    if (!detail) {
      const prefix = jobTagPrefix(job.name);
      // Tags of a longer job name (`<job>-weekly-…`) share the prefix; a content-hash tag is `<job>-<12 hex>`.
      const own = new RegExp(`^${prefix.replace(/[-]/g, '\\-')}[0-9a-f]{12}$`);
      detail = all
        .filter((d) => d.imageTags?.some((t) => own.test(t)))
        .sort((a, b) => (b.imagePushedAt?.getTime() ?? 0) - (a.imagePushedAt?.getTime() ?? 0))[0];
      if (detail) source = 'newest-tag';
    }
    if (!detail?.imageDigest) {
      out.push({
        job: job.name,
        repository: repo.name,
        tags: [],
        source: 'none',
        scan: { status: 'NO_IMAGE', counts: {} },
      });
      continue;
    }
    out.push({
      job: job.name,
      repository: repo.name,
      reference: deployed && source === 'task-definition' ? deployed.image : undefined,
      digest: detail.imageDigest,
      tags: detail.imageTags ?? [],
      ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt.toISOString() } : {}),
      ...(detail.imageSizeInBytes !== undefined ? { sizeBytes: detail.imageSizeInBytes } : {}),
      source,
      scan: await scanOf(input.ecr, repo.name, detail.imageDigest),
    });
  }
  return out;
}

/** The table `berth image list` prints. */
export function imageListTable(rows: readonly JobImage[]): string {
  const header = ['JOB', 'TAG', 'DIGEST', 'PUSHED', 'SIZE', 'SCAN', 'FROM'];
  const cells = rows.map((r) => [
    r.job,
    r.tags[0] ?? '—',
    r.digest ? r.digest.slice(0, 19) : '—',
    r.pushedAt ? r.pushedAt.slice(0, 16).replace('T', ' ') : '—',
    r.sizeBytes !== undefined ? `${(r.sizeBytes / 1024 / 1024).toFixed(1)} MiB` : '—',
    r.scan.status === 'COMPLETE' ? countsText(r.scan.counts) : r.scan.status.toLowerCase().replace(/_/g, ' '),
    r.source === 'task-definition' ? 'deployed' : r.source === 'newest-tag' ? 'newest push' : '—',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * The scan gate: decision and findings table on real DescribeImageScanFindings shapes (basic scanning and
 * Amazon Inspector's enhanced scanning, test/fixtures/events/ecr), and the bounded wait against moto's ECR.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateRepositoryCommand,
  type DescribeImageScanFindingsResponse,
  ECRClient,
  PutImageCommand,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blockingSeverities,
  checkScanGate,
  countsText,
  findingsOf,
  findingsTable,
  ScanGateError,
  waitForScan,
} from '../../../src/runtime/aws/imageScan.js';
import { type MotoServer, startMoto } from './motoServer.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/events/ecr');
const fixture = (name: string) =>
  JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as DescribeImageScanFindingsResponse;
const basic = fixture('describe-image-scan-findings-basic.json');
const enhanced = fixture('describe-image-scan-findings-enhanced.json');
const REF = '123456789012.dkr.ecr.us-east-1.amazonaws.com/berth/shop-dev@sha256:74b2c688c700';

describe('the scan gate on real response shapes', () => {
  it('reads basic findings: package@version from the attributes, no fixed-in version', () => {
    expect(findingsOf(basic.imageScanFindings)).toEqual([
      { severity: 'HIGH', package: 'glibc@2.36-9+deb12u1', id: 'CVE-2023-4911', fixedIn: '—' },
      { severity: 'MEDIUM', package: 'e2fsprogs@1.44.1-1ubuntu1.1', id: 'CVE-2019-5188', fixedIn: '—' },
    ]);
  });

  it('reads enhanced findings: vulnerable package and the version that fixes it', () => {
    expect(findingsOf(enhanced.imageScanFindings)).toEqual([
      { severity: 'CRITICAL', package: 'openssl@1.1.1n', id: 'CVE-2023-0286', fixedIn: '0:1.1.1n-0+deb11u4' },
      { severity: 'LOW', package: 'zlib1g@1:1.2.11.dfsg-2+deb11u1', id: 'CVE-2022-37434', fixedIn: '—' },
    ]);
  });

  it('blocks at or above failOn, and only there', () => {
    expect(blockingSeverities({ MEDIUM: 1, HIGH: 1 }, 'HIGH')).toEqual(['HIGH']);
    expect(blockingSeverities({ MEDIUM: 1, HIGH: 1 }, 'CRITICAL')).toEqual([]);
    expect(blockingSeverities({ CRITICAL: 1, LOW: 1 }, 'HIGH')).toEqual(['CRITICAL']);
    expect(blockingSeverities({ HIGH: 0 }, 'HIGH')).toEqual([]);
    expect(countsText({ LOW: 2, CRITICAL: 1 })).toBe('CRITICAL 1 · LOW 2');
    expect(countsText({})).toBe('no findings');
  });

  it('refuses a HIGH finding under failOn HIGH with a table: severity, package, CVE, fixed in', () => {
    let error: unknown;
    try {
      checkScanGate('thumbnail', REF, basic, 'HIGH');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScanGateError);
    expect((error as Error).message).toBe(
      [
        `image of job thumbnail (${REF}) has HIGH 1 finding, at or above failOn HIGH — update the packages below (or the base image) and deploy again; the stack was not updated`,
        'SEVERITY  PACKAGE               CVE            FIXED IN',
        'HIGH      glibc@2.36-9+deb12u1  CVE-2023-4911  —',
      ].join('\n'),
    );
  });

  it('lets the same image pass under failOn CRITICAL, returning the counts', () => {
    expect(checkScanGate('thumbnail', REF, basic, 'CRITICAL')).toEqual({ MEDIUM: 1, HIGH: 1 });
  });

  it('blocks a CRITICAL enhanced finding under failOn HIGH and shows its fix', () => {
    expect(() => checkScanGate('report', REF, enhanced, 'HIGH')).toThrow(
      /CRITICAL 1 finding,[\s\S]*CRITICAL {2}openssl@1\.1\.1n {2}CVE-2023-0286 {2}0:1\.1\.1n-0\+deb11u4/,
    );
  });

  it('cuts a long table and says how many rows are left', () => {
    const many = Array.from({ length: 35 }, (_, i) => ({
      severity: 'HIGH',
      package: `p${i}`,
      id: `CVE-2024-${1000 + i}`,
      fixedIn: '—',
    }));
    const lines = findingsTable(many).split('\n');
    expect(lines).toHaveLength(32);
    expect(lines.at(-1)).toBe('… and 5 more');
  });
});

describe('waitForScan against moto ECR', () => {
  let moto: MotoServer;
  let ecr: ECRClient;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${'1'.repeat(64)}`,
      size: 2,
    },
    layers: [],
  });
  let digest: string;

  beforeAll(async () => {
    moto = await startMoto();
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    ecr = new ECRClient({ region: 'us-east-1', endpoint: moto.endpoint });
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'berth/scan-dev' }));
    const out = await ecr.send(
      new PutImageCommand({
        repositoryName: 'berth/scan-dev',
        imageManifest: manifest,
        imageTag: 'job-0123456789ab',
      }),
    );
    digest = out.image!.imageId!.imageDigest!;
  });
  afterAll(async () => moto?.stop());

  it('waits while the scan has not started, with progress, and returns the findings once it completes', async () => {
    const progress: string[] = [];
    const started = setTimeout(() => {
      void ecr.send(
        new StartImageScanCommand({ repositoryName: 'berth/scan-dev', imageId: { imageDigest: digest } }),
      );
    }, 600);
    const response = await waitForScan(
      ecr,
      { repositoryName: 'berth/scan-dev', imageDigest: digest },
      { timeoutMs: 20_000, intervalMs: 150, onProgress: (status) => progress.push(status) },
    );
    clearTimeout(started);
    expect(progress[0]).toBe('NOT_STARTED');
    expect(progress.at(-1)).toBe('COMPLETE');
    // moto's fixed finding (a HIGH CVE-9999-9999 in moto_fake 9.9.9): the gate refuses it under HIGH.
    expect(findingsOf(response.imageScanFindings)).toEqual([
      { severity: 'HIGH', package: 'moto_fake@9.9.9', id: 'CVE-9999-9999', fixedIn: '—' },
    ]);
    expect(() => checkScanGate('job', `x@${digest}`, response, 'HIGH')).toThrow(ScanGateError);
  });

  it('gives up after the bound, naming the last status and the fix', async () => {
    // Another image (moto retags an identical manifest, and digests alike unless told: give both its own).
    const other = `sha256:${'c'.repeat(64)}`;
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'berth/scan-dev',
        imageManifest: manifest.replace('"layers":[]', '"layers":[],"annotations":{"n":"2"}'),
        imageTag: 'job-cccccccccccc',
        imageDigest: other,
      }),
    );
    const started = Date.now();
    await expect(
      waitForScan(
        ecr,
        { repositoryName: 'berth/scan-dev', imageDigest: other },
        { timeoutMs: 800, intervalMs: 200 },
      ),
    ).rejects.toThrow(
      /did not finish within 1 s \(last status NOT_STARTED\) — deploy again later, or raise custom\.berth\.images\.scanTimeoutSeconds/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

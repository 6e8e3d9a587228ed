import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDevConfig } from '../../../src/runtime/local/config.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-devconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problem(config: unknown): string {
  const file = join(dir, 'berth.dev.json');
  writeFileSync(file, JSON.stringify(config));
  try {
    loadDevConfig(file);
  } catch (error) {
    return (error as Error).message.slice(file.length + 2);
  }
  return 'accepted';
}

describe('berth.dev.json problems read like the rest of berth', () => {
  it.each([
    [{ port: 45.5 }, 'port: is 45.5, but must be a whole number — write a whole number, like 3'],
    [
      { driver: 'podman' },
      `driver: is the text "podman", not one of 'auto', 'process', 'docker' — use one of 'auto', 'process', 'docker'`,
    ],
    [
      { stopGraceSeconds: '5' },
      'stopGraceSeconds: must be a number, not the text "5" — write 5 without quotes',
    ],
    [{ prot: 4555 }, "(root): unknown key 'prot' — remove it or check the spelling"],
  ])('%j', (config, expected) => {
    const message = problem(config);
    expect(message).toBe(expected);
    expect(message).not.toMatch(/Invalid|expected .*, received|Unrecognized/);
  });

  it('accepts a good file', () => {
    expect(problem({ port: 4555, driver: 'process' })).toBe('accepted');
  });
});

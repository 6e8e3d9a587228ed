import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { hasToken, hostName, isCrossSite, isLoopbackHost } from '../../src/dashboard/security.js';

function req(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe('request checks', () => {
  it('reads host names with and without ports', () => {
    expect(hostName('127.0.0.1:8787')).toBe('127.0.0.1');
    expect(hostName('[::1]:8787')).toBe('[::1]');
    expect(hostName('localhost')).toBe('localhost');
  });

  it('accepts only loopback Host headers (DNS rebinding)', () => {
    expect(isLoopbackHost(req({ host: '127.0.0.1:8787' }))).toBe(true);
    expect(isLoopbackHost(req({ host: 'LOCALHOST:1' }))).toBe(true);
    expect(isLoopbackHost(req({ host: '[::1]:8787' }))).toBe(true);
    expect(isLoopbackHost(req({ host: 'attacker.example:8787' }))).toBe(false);
    expect(isLoopbackHost(req({ host: '127.0.0.1.attacker.example' }))).toBe(false);
    expect(isLoopbackHost(req({}))).toBe(false);
  });

  it('tells cross-site requests by Sec-Fetch-Site and by Origin', () => {
    const host = '127.0.0.1:8787';
    expect(isCrossSite(req({ host, 'sec-fetch-site': 'same-origin' }))).toBe(false);
    expect(isCrossSite(req({ host, 'sec-fetch-site': 'none' }))).toBe(false);
    expect(isCrossSite(req({ host, 'sec-fetch-site': 'cross-site' }))).toBe(true);
    expect(isCrossSite(req({ host, 'sec-fetch-site': 'same-site' }))).toBe(true);
    expect(isCrossSite(req({ host, origin: 'http://127.0.0.1:8787' }))).toBe(false);
    expect(isCrossSite(req({ host, origin: 'http://127.0.0.1:9999' }))).toBe(true);
    expect(isCrossSite(req({ host, origin: 'https://evil.example' }))).toBe(true);
    expect(isCrossSite(req({ host, origin: 'null' }))).toBe(true);
    expect(isCrossSite(req({ host }))).toBe(false);
  });

  it('compares the token exactly', () => {
    expect(hasToken(req({ 'x-berth-token': 'abc123' }), 'abc123')).toBe(true);
    expect(hasToken(req({ 'x-berth-token': 'abc124' }), 'abc123')).toBe(false);
    expect(hasToken(req({ 'x-berth-token': 'abc1234' }), 'abc123')).toBe(false);
    expect(hasToken(req({ 'x-berth-token': '' }), 'abc123')).toBe(false);
    expect(hasToken(req({}), 'abc123')).toBe(false);
  });
});

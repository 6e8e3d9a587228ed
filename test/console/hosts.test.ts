/** The dashboard's Host check with the `*.<suffix>` entries a deployed console uses (App Runner URLs). */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isAllowedHost } from '../../src/dashboard/security.js';

const req = (host?: string) => ({ headers: host === undefined ? {} : { host } }) as IncomingMessage;

describe('isAllowedHost with *.suffix entries', () => {
  const allowed = ['*.awsapprunner.com', 'console.example.com'];
  it('allows names under the suffix and exact names, any port or case', () => {
    expect(isAllowedHost(req('q7abc123de.us-east-1.awsapprunner.com'), allowed)).toBe(true);
    expect(isAllowedHost(req('Q7ABC.US-EAST-1.AWSAPPRUNNER.COM:443'), allowed)).toBe(true);
    expect(isAllowedHost(req('console.example.com:8080'), allowed)).toBe(true);
    expect(isAllowedHost(req('127.0.0.1:9000'), allowed)).toBe(true);
  });
  it('refuses the bare suffix, look-alikes and other names', () => {
    expect(isAllowedHost(req('awsapprunner.com'), allowed)).toBe(false);
    expect(isAllowedHost(req('evilawsapprunner.com'), allowed)).toBe(false);
    expect(isAllowedHost(req('awsapprunner.com.attacker.example'), allowed)).toBe(false);
    expect(isAllowedHost(req('sub.console.example.com'), allowed)).toBe(false);
    expect(isAllowedHost(req(undefined), allowed)).toBe(false);
  });
});

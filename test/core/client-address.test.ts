// Which address an anonymous caller is counted as: the configured source only (never an entry the
// client wrote), canonical so one client has one bucket, and `unknown` (with a warning) when the
// source holds nothing usable. End-to-end through the local platform: test/api/rate-limits.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientId } from '../../src/auth/api-keys.js';
import { clientAddress, unknownClientAddress } from '../../src/auth/client-address.js';
import { loadClientAddressConfig, type ClientAddressSource } from '../../src/config.js';

const rightMost: ClientAddressSource = { kind: 'x-forwarded-for', hopsFromRight: 1 };
const cfConnectingIp: ClientAddressSource = { kind: 'header', name: 'cf-connecting-ip' };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('client address', () => {
  it('by default takes the right-most X-Forwarded-For entry, the one the edge appended', () => {
    const source = loadClientAddressConfig({}).source;
    expect(clientAddress({ 'x-forwarded-for': '192.0.2.66, 198.51.100.1 , 203.0.113.7' }, source)).toBe('203.0.113.7');
    expect(clientAddress({ 'x-forwarded-for': '203.0.113.7' }, source)).toBe('203.0.113.7');
  });

  it('counts hops from the right, past proxies of your own', () => {
    const twoHops: ClientAddressSource = { kind: 'x-forwarded-for', hopsFromRight: 2 };
    expect(clientAddress({ 'x-forwarded-for': '192.0.2.66, 198.51.100.1, 10.0.0.9' }, twoHops)).toBe('198.51.100.1');
  });

  it('reads a configured header and ignores X-Forwarded-For then', () => {
    expect(clientAddress({ 'cf-connecting-ip': ' 198.51.100.7 ', 'x-forwarded-for': '203.0.113.7' }, cfConnectingIp)).toBe('198.51.100.7');
  });

  it('counts an IPv6 client as its /64 and an IPv4-mapped address as IPv4', () => {
    const a = clientAddress({ 'x-forwarded-for': '2001:db8:1:2:3:4:5:6' }, rightMost);
    const b = clientAddress({ 'x-forwarded-for': '2001:DB8:1:2:ffff::1' }, rightMost);
    expect(a).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(b).toBe(a);
    expect(clientAddress({ 'x-forwarded-for': '2001:db8:1:3::1' }, rightMost)).not.toBe(a);
    expect(clientAddress({ 'x-forwarded-for': '::ffff:192.0.2.1' }, rightMost)).toBe('192.0.2.1');
    expect(clientAddress({ 'x-forwarded-for': 'fe80::1%eth0' }, rightMost)).toBe('fe80:0:0:0:0:0:0:0/64');
  });

  it('answers unknown for a missing, short or garbled source, and warns once per container', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const unusable: [Record<string, string>, ClientAddressSource][] = [
      [{}, rightMost],
      [{}, cfConnectingIp],
      [{ 'x-forwarded-for': '203.0.113.7' }, { kind: 'x-forwarded-for', hopsFromRight: 2 }],
      [{ 'x-forwarded-for': '203.0.113.7, ' }, rightMost],
      [{ 'x-forwarded-for': 'not-an-ip' }, rightMost],
      [{ 'x-forwarded-for': '999.999.999.999' }, rightMost],
      [{ 'x-forwarded-for': '203.0.113.7:443' }, rightMost],
      [{ 'cf-connecting-ip': '198.51.100.7, 198.51.100.8' }, cfConnectingIp],
      [{ 'x-forwarded-for': 'x'.repeat(2_000) }, rightMost],
    ];
    for (const [headers, source] of unusable) expect(clientAddress(headers, source)).toBe(unknownClientAddress);
    expect(warn).toHaveBeenCalledTimes(1);
    const line = JSON.parse(String(warn.mock.calls[0]?.[0])) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', source: 'x-forwarded-for:1', value: null });
    expect(line.message).toContain('CLIENT_ADDRESS_SOURCE');
  });

  it('keys a caller with an API key by the key, whatever its address', () => {
    const caller = { kind: 'key', keyHash: 'ab'.repeat(32) } as const;
    expect(clientId(caller, { 'x-forwarded-for': '203.0.113.7' }, rightMost)).toBe(`key:${'ab'.repeat(8)}`);
    expect(clientId({ kind: 'anonymous' }, { 'x-forwarded-for': '192.0.2.66, 203.0.113.7' }, rightMost)).toBe('ip:203.0.113.7');
  });
});

// The address an anonymous caller's limits are counted against (src/auth/limits.ts). Only what a
// proxy in front of the function wrote can be trusted: DigitalOcean's edge (Cloudflare) appends
// the address it saw to whatever X-Forwarded-For the client sent, so the client's own entries sit
// on the left and the platform's on the right (DigitalOcean docs: HTTP headers; Cloudflare docs:
// HTTP request headers). Which entry, or which header, is configured: CLIENT_ADDRESS_SOURCE.
import { isIP } from 'node:net';
import { ipv6ClientPrefixBits, type ClientAddressSource } from '../config.js';
import { log } from '../log.js';

/**
 * The bucket for requests whose configured source holds no usable address. They share one
 * allowance, which errs on the side of limiting; the warning below says it is happening.
 */
export const unknownClientAddress = 'unknown';

/** Enough of an unusable value to recognise it in the log, without letting a client fill the log. */
const loggedValueChars = 200;

let warnedUnusable = false;

/**
 * The configured source's address in a canonical form: IPv4 as is (also when IPv4-mapped in
 * IPv6), IPv6 as its /64 network. Anything else is `unknown`, with a warning once per container:
 * on DigitalOcean it means the source is misconfigured (say, a header the edge does not set), and
 * once per container keeps a busy function from filling its log with the same line.
 */
export function clientAddress(headers: Record<string, string>, source: ClientAddressSource): string {
  const raw = source.kind === 'header' ? headers[source.name] : forwardedEntry(headers['x-forwarded-for'], source.hopsFromRight);
  const address = raw === undefined ? undefined : canonicalAddress(raw.trim());
  if (address !== undefined) return address;
  if (!warnedUnusable) {
    warnedUnusable = true;
    log.warn('no usable client address: anonymous requests without one share the "unknown" allowance (check CLIENT_ADDRESS_SOURCE)', {
      source: source.kind === 'header' ? source.name : `x-forwarded-for:${source.hopsFromRight}`,
      value: raw === undefined ? null : raw.slice(0, loggedValueChars),
    });
  }
  return unknownClientAddress;
}

/** The entry `hopsFromRight` places from the right (1 = the last one appended); undefined when there are fewer. */
function forwardedEntry(header: string | undefined, hopsFromRight: number): string | undefined {
  if (header === undefined) return undefined;
  const entries = header.split(',');
  return entries[entries.length - hopsFromRight];
}

function canonicalAddress(value: string): string | undefined {
  if (isIP(value) === 4) return value;
  if (isIP(value) !== 6) return undefined;
  const groups = ipv6Groups(value);
  if (groups === undefined) return undefined;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    // ::ffff:a.b.c.d is an IPv4 client reaching a dual-stack socket: count it as that IPv4 address.
    return groups
      .slice(6)
      .flatMap((group) => [group >> 8, group & 0xff])
      .join('.');
  }
  const network = groups.map((group, index) => {
    const keptBits = Math.min(16, Math.max(0, ipv6ClientPrefixBits - index * 16));
    return group & (keptBits === 0 ? 0 : (0xffff << (16 - keptBits)) & 0xffff);
  });
  return `${network.map((group) => group.toString(16)).join(':')}/${ipv6ClientPrefixBits}`;
}

/**
 * The eight 16-bit groups of an IPv6 address. The URL parser writes it in its canonical form
 * (WHATWG URL "IPv6 serializer": an embedded IPv4 tail in hex, at most one `::`), which is simple
 * to expand; a zone index (`%eth0`) names an interface, not a client, and is dropped.
 */
function ipv6Groups(address: string): number[] | undefined {
  let canonical: string;
  try {
    canonical = new URL(`http://[${address.split('%')[0] ?? ''}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = '', tail] = canonical.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array.from({ length: 8 - headGroups.length - tailGroups.length }, () => '0');
  const groups = [...headGroups, ...zeros, ...tailGroups].map((group) => Number.parseInt(group, 16));
  return groups.length === 8 && groups.every((group) => Number.isInteger(group)) ? groups : undefined;
}

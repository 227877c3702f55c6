import dns from 'node:dns/promises';
import net from 'node:net';
import { MediaflowError } from '../../functions/errors.js';

/**
 * Where a caller-supplied webhook may be delivered. A `webhookUrl` is chosen by an API caller, so
 * without these checks mediaflow would POST, signed, to the cloud metadata service, the LAN or its
 * own admin endpoints (SSRF). The host is resolved and every address must be public; the delivery
 * then connects to the address checked here (pinned), so a DNS answer that changes between check
 * and connect (rebinding) cannot move it. URL parsing already turns decimal, hex and short IPv4
 * forms (`2130706433`, `0x7f.1`) into dotted quads, which are checked like any other.
 */
const BLOCKED = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64
  ['2002::', 16], // 6to4
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['2001:db8::', 32],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv6');

/** True for an address a webhook may not reach unless private destinations are allowed. */
export function isBlockedAddress(address: string): boolean {
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d, ::ffff:a9fe:a9fe) is refused whatever the IPv4 address.
  // (Not a BlockList subnet: Node matches plain IPv4 addresses against that one too.)
  if (family === 'ipv6' && /^(0{0,4}:){0,5}:?ffff:/i.test(address)) return true;
  return family === undefined || BLOCKED.check(address, family);
}

export interface Destination {
  url: URL;
  /** The address to connect to (checked). */
  address: string;
  family: 4 | 6;
}

/**
 * Parses, resolves and checks a webhook URL; throws REQUEST_INVALID naming the reason. With
 * `allowPrivate` (MEDIAFLOW_WEBHOOK_ALLOW_PRIVATE, for local development) only the scheme is
 * checked, but the address is still resolved once and pinned.
 */
export async function resolveDestination(raw: string, allowPrivate: boolean): Promise<Destination> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(raw, 'it is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refused(raw, 'only http and https are allowed');
  if (url.username || url.password) throw refused(raw, 'credentials in the URL are not allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let answers: { address: string; family: number }[];
  if (net.isIP(host)) answers = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      answers = await dns.lookup(host, { all: true, verbatim: true });
    } catch {
      throw refused(raw, `${host} does not resolve`);
    }
  }
  const blocked = answers.find((a) => isBlockedAddress(a.address));
  if (blocked && !allowPrivate)
    throw refused(
      raw,
      `${host} is ${blocked.address}, a loopback, private, link-local, shared or multicast ` +
        `address (MEDIAFLOW_WEBHOOK_ALLOW_PRIVATE=true allows it for local development)`,
    );
  const first = answers[0];
  if (!first) throw refused(raw, `${host} does not resolve`);
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

function refused(raw: string, why: string): MediaflowError {
  return new MediaflowError(
    'REQUEST_INVALID',
    `Expected a public http(s) URL for webhookUrl but received ` +
      `${JSON.stringify(raw.slice(0, 200))}: ${why}`,
  );
}

// The SSRF guard of webhook URLs (DESIGN §12): https only, except hosts the
// operator lists in PROVENANT_WEBHOOK_ALLOW_HOSTS; the host is resolved and
// every address must be public (no private, loopback, link-local, CGNAT,
// multicast or reserved range), at subscribe time and again before each
// attempt, and the attempt connects to the address that was checked, so a
// DNS answer that changes between check and connect cannot redirect it.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why a URL is refused; `rule` is the problem+json `errors[].rule`. */
export class WebhookUrlError extends Error {
  override readonly name = 'WebhookUrlError';
  constructor(
    readonly rule: 'url' | 'https' | 'address',
    message: string,
  ) {
    super(message);
  }
}

/** Resolves a host name to its addresses (injectable for tests). */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Parses PROVENANT_WEBHOOK_ALLOW_HOSTS: comma-separated host names or addresses, lower-cased. */
export function parseAllowHosts(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h.length > 0);
}

/** True for an address only the public internet may be: ipaddr.js range 'unicast'. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  // ::ffff:10.0.0.1 is 10.0.0.1.
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === 'unicast';
}

/** A URL that passed the guard, with the address to connect to. */
export interface CheckedUrl {
  url: URL;
  /** The resolved address the request must connect to. */
  address: string;
  family: 4 | 6;
}

function hostOf(url: URL): string {
  // URL keeps IPv6 literals in brackets.
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/**
 * Checks a webhook URL and resolves its host.
 * @throws WebhookUrlError: not an http(s) URL with a host, credentials in it,
 *   http to a host not allowed, or an address that is not public (unless allowed).
 */
export async function checkWebhookUrl(
  text: string,
  allowHosts: readonly string[],
  resolve: Resolver = systemResolver,
): Promise<CheckedUrl> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlError('url', 'not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookUrlError('https', 'the URL must be https');
  if (url.username || url.password)
    throw new WebhookUrlError('url', 'the URL must not carry credentials');
  const host = hostOf(url);
  if (!host) throw new WebhookUrlError('url', 'the URL has no host');
  const allowed = allowHosts.includes(host);
  if (url.protocol === 'http:' && !allowed)
    throw new WebhookUrlError('https', 'the URL must be https (http only for allowed hosts)');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new WebhookUrlError('address', `the host ${host} does not resolve`);
    }
  }
  if (addresses.length === 0)
    throw new WebhookUrlError('address', `the host ${host} does not resolve`);
  if (!allowed) {
    const bad = addresses.find((a) => !isPublicAddress(a));
    if (bad !== undefined)
      throw new WebhookUrlError(
        'address',
        `the host ${host} resolves to a private, loopback or link-local address`,
      );
  }
  const address = addresses[0]!;
  return { url, address, family: isIP(address) === 6 ? 6 : 4 };
}

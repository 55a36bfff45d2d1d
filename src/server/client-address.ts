/**
 * The client address per-address limits, the throttle and the logs use. By default the TCP peer: a
 * forwarded-for header is only believed from proxies the operator trusts (`trustProxy`), since any client
 * can send one. With trust configured, the address chain is walked from the socket outwards — the socket's
 * peer, then the header's entries from right to left — and the first address not trusted is the client.
 * Only one header is read (`X-Forwarded-For`, or RFC 7239 `Forwarded` when configured): a proxy that sets
 * one passes the other through from the client unchanged, so reading both would let a client forge one.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Trusted proxies: a number of hops in front of the server, or addresses and CIDR ranges. */
export type TrustProxy = number | readonly string[];

/** Which header carries the forwarded-for chain. */
export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

// Named ranges, as in common proxy configurations.
const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
};
// Entries read from the header at most: more hops than this are not a real proxy chain.
const MAX_CHAIN = 32;

type Trusted = (address: string, hop: number) => boolean;
const compiled = new Map<string, Trusted>();

/**
 * Checks and compiles a `trustProxy` value.
 *
 * @throws {TypeError} naming the entry that is not an address, a CIDR range or a range name
 */
export function compileTrust(trust: TrustProxy): Trusted {
  if (typeof trust === 'number') {
    if (!(Number.isInteger(trust) && trust >= 0 && trust <= MAX_CHAIN)) {
      throw new RangeError(
        `The "trustProxy" hop count must be an integer from 0 to ${MAX_CHAIN}; got ${trust}.`,
      );
    }
    return (_address, hop) => hop < trust;
  }
  if (!Array.isArray(trust)) throw new TypeError('The "trustProxy" option must be a hop count or a list.');
  const key = JSON.stringify(trust);
  const cached = compiled.get(key);
  if (cached) return cached;
  const list = new BlockList();
  for (const entry of trust.flatMap((item: unknown) =>
    typeof item === 'string' ? (NAMED[item.trim().toLowerCase()] ?? [item.trim()]) : [String(item)],
  )) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (
      family === 0 ||
      extra !== undefined ||
      !Number.isInteger(bits) ||
      bits < 0 ||
      bits > (family === 6 ? 128 : 32)
    ) {
      throw new TypeError(
        `The "trustProxy" entry ${JSON.stringify(entry)} is not an address, CIDR range or range name.`,
      );
    }
    list.addSubnet(address!, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  const trusted: Trusted = (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
  compiled.set(key, trusted);
  return trusted;
}

/**
 * The client's address.
 *
 * @param request - the upgrade (or HTTP) request
 * @param trust - trusted proxies; undefined or 0 trusts none (the socket's peer is the client)
 * @param header - the header the trusted proxies set
 * @returns the address, or `unknown`
 */
export function clientAddress(
  request: IncomingMessage,
  trust: TrustProxy | undefined,
  header: ForwardedHeader = 'x-forwarded-for',
): string {
  const peer = normalise(request.socket.remoteAddress ?? '') ?? 'unknown';
  if (trust === undefined || trust === 0 || (Array.isArray(trust) && trust.length === 0)) return peer;
  const trusted = compileTrust(trust);
  const chain = forwardedChain(request, header);
  let current = peer;
  for (let hop = 0; hop < chain.length; hop++) {
    if (!trusted(current, hop)) return current;
    const next = chain[hop];
    // A trusted proxy that forwarded something unreadable: its own address is the best we know.
    if (next === undefined) return current;
    current = next;
  }
  return current;
}

/** The header's addresses, nearest first; an entry that is not an address ends the chain there. */
function forwardedChain(request: IncomingMessage, header: ForwardedHeader): (string | undefined)[] {
  const raw = request.headers[header];
  const text = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  if (text === '') return [];
  const entries = text.split(',');
  const nearest = entries.slice(-MAX_CHAIN).reverse();
  const chain: (string | undefined)[] = [];
  for (const entry of nearest) {
    const address = header === 'forwarded' ? forParameter(entry) : normalise(entry.trim());
    chain.push(address);
    if (address === undefined) break;
  }
  return chain;
}

/** The `for=` of one RFC 7239 element: `for=192.0.2.1`, `for="[2001:db8::1]:4711"`, `for=_hidden` (none). */
function forParameter(element: string): string | undefined {
  for (const pair of element.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1 || pair.slice(0, equals).trim().toLowerCase() !== 'for') continue;
    let value = pair.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.startsWith('['))
      value = value.slice(1, value.indexOf(']') === -1 ? undefined : value.indexOf(']'));
    else if (/^[\d.]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
    return normalise(value);
  }
  return undefined;
}

/** A valid IP address in its plain form (IPv4-mapped IPv6 as IPv4), or undefined. */
function normalise(address: string): string | undefined {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return isIP(plain) === 0 ? undefined : plain.toLowerCase();
}

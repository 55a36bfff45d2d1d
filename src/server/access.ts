/**
 * The access checks the server ships: client addresses (behind trusted proxies, see client-address.ts), the
 * Origin allow-list, a shared token and a scrypt password file. Secrets are compared in constant time, an
 * unknown login costs the same hashing as a known one, and password hashing runs a bounded number at a time
 * with a bounded queue, so that guessing can never occupy the thread pool that file writes need.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { Status } from '../protocol/index.ts';
import { clientAddress, type ForwardedHeader, type TrustProxy } from './client-address.ts';
import { RefusalError } from './refusal.ts';
import type { AccessDecision, Authenticate, AuthorizeUpgrade, Credentials } from './options.ts';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

// scrypt cost: N=2^14, r=8, p=1 is the interactive-login setting of the scrypt paper and of node's default.
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

/**
 * The address of the client, used to count its connections and uploads. The socket's own address, unless
 * `trust` names the proxies in front of the server (see client-address.ts): a forwarded-for header is not
 * believed otherwise, as any client can send one.
 *
 * @param request - the upgrade request
 * @param trust - trusted proxies (hops or CIDR ranges); none by default
 * @param header - the header those proxies set
 * @returns the IP address, or `unknown`
 */
export function clientIp(request: IncomingMessage, trust?: TrustProxy, header?: ForwardedHeader): string {
  return clientAddress(request, trust, header);
}

/**
 * Checks the `Origin` of an upgrade against an allow-list. Browsers always send it; a request without one
 * is not from a browser and is let through, since such a client could send any Origin it likes.
 *
 * @param request - the upgrade request
 * @param allowed - allowed origins, `*` for any; undefined allows all
 * @returns true when the origin may connect
 */
export function originAllowed(request: IncomingMessage, allowed: readonly string[] | undefined): boolean {
  if (!allowed || allowed.includes('*')) return true;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  return allowed.some((entry) => entry.replace(/\/$/, '').toLowerCase() === origin.toLowerCase());
}

/**
 * Compares two secrets in constant time. Both are hashed first so that their lengths leak nothing and
 * `timingSafeEqual` gets equal-length buffers.
 *
 * @returns true when equal
 */
export function secretsEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The access hooks for a shared token (CLI `--token`): `AUTH: {"token": …}`, or on the upgrade request an
 * `Authorization: Bearer …` header or a `?token=` query parameter (a browser WebSocket cannot set headers).
 *
 * @param token - the secret
 * @returns the `authenticate` and `authorizeUpgrade` hooks
 */
export function tokenAccess(token: string): {
  authenticate: Authenticate;
  authorizeUpgrade: AuthorizeUpgrade;
} {
  if (typeof token !== 'string' || token === '') throw new TypeError('The token must be a non-empty string.');
  return {
    authenticate: (credentials) => credentials.token !== undefined && secretsEqual(credentials.token, token),
    authorizeUpgrade: (request) => {
      const offered = bearerToken(request) ?? queryParam(request, 'token');
      // Nothing offered: undecided, the client may still send AUTH. A wrong token is a failed attempt, and
      // counted as one (auth-throttle.ts): accepting the upgrade would let a guesser probe for free.
      if (offered === undefined) return undefined;
      return secretsEqual(offered, token);
    },
  };
}

/** One `user:scrypt:<salt hex>:<key hex>` line of a password file. */
interface PasswordEntry {
  salt: Buffer;
  key: Buffer;
}

/**
 * Derives a password file line for `user` (CLI `--hash-password`). scrypt from node:crypto with a random
 * 16-byte salt: no hand-rolled primitive and no native dependency.
 *
 * @param user - the login; no `:` allowed
 * @param password - the password
 * @returns `user:scrypt:<salt hex>:<key hex>`
 * @throws {TypeError} when the user name is empty or holds `:` or a line break
 */
export async function hashPassword(user: string, password: string): Promise<string> {
  if (!user || /[:\r\n]/.test(user)) throw new TypeError('The user name must be non-empty without ":".');
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, SCRYPT);
  return `${user}:scrypt:${salt.toString('hex')}:${key.toString('hex')}`;
}

/**
 * Parses a password file: one `user:scrypt:<salt hex>:<key hex>` per line; blank lines and `#` comments
 * are skipped.
 *
 * @param text - the file's content
 * @returns the users and their hashes
 * @throws {TypeError} naming the line that is not in that format
 */
export function parsePasswordFile(text: string): Map<string, PasswordEntry> {
  const users = new Map<string, PasswordEntry>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([^:]+):scrypt:([0-9a-f]{32,}):([0-9a-f]{32,})$/i.exec(line);
    if (!match) {
      throw new TypeError(`Password file line ${index + 1} is not "user:scrypt:<salt hex>:<key hex>".`);
    }
    users.set(match[1]!, { salt: Buffer.from(match[2]!, 'hex'), key: Buffer.from(match[3]!, 'hex') });
  }
  return users;
}

/** How much password hashing a {@link passwordFileAccess} runs at once. */
export interface HashingLimits {
  /**
   * scrypt computations at once. Each takes a libuv thread (the pool has 4 by default, shared with every
   * file read and write) and 16 MiB. Default 1.
   */
  maxConcurrentHashes?: number;
  /** Checks waiting for a turn; past this an AUTH is answered 503 with `retryAfter`. Default 16. */
  maxQueuedHashes?: number;
}

// What a client refused because the hashing queue is full is told to wait.
const HASHING_RETRY_AFTER = 1000;

/**
 * Runs async jobs a bounded number at a time, with a bounded queue: a job past the bound is refused at once
 * (a RefusalError with 503), never left to pile up.
 */
export class BoundedQueue {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  /**
   * @param concurrency - jobs at once
   * @param maxQueued - jobs waiting at most
   */
  constructor(concurrency: number, maxQueued: number) {
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new RangeError(`The hashing concurrency must be a positive integer; got ${concurrency}.`);
    }
    if (!(Number.isInteger(maxQueued) && maxQueued >= 0)) {
      throw new RangeError(`The hashing queue bound must be an integer, 0 or more; got ${maxQueued}.`);
    }
    this.#concurrency = concurrency;
    this.#maxQueued = maxQueued;
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new RefusalError({
          code: Status.unavailable,
          message: 'Too many logins at once: try again shortly.',
          retryAfter: HASHING_RETRY_AFTER,
        });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await job();
    } finally {
      // The slot passes straight to the next waiter, so the count stays right.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

/**
 * The access hooks for a password file (CLI `--htpasswd`): `AUTH: {"login","password"}`, or HTTP Basic on
 * the upgrade request. The login becomes the user (for per-user folders).
 *
 * @param text - the password file's content, see {@link parsePasswordFile}
 * @param limits - how many password hashes run at once, and how many may wait
 * @returns the `authenticate` and `authorizeUpgrade` hooks
 */
export function passwordFileAccess(
  text: string,
  limits: HashingLimits = {},
): {
  authenticate: Authenticate;
  authorizeUpgrade: AuthorizeUpgrade;
} {
  const users = parsePasswordFile(text);
  const queue = new BoundedQueue(limits.maxConcurrentHashes ?? 1, limits.maxQueuedHashes ?? 16);
  // An unknown login is hashed with a salt of this process, as long as a real one.
  const decoySalt = randomBytes(16);
  const check = async ({ login, password }: Credentials): Promise<AccessDecision> => {
    if (login === undefined || password === undefined) return false;
    const entry = users.get(login);
    // An unknown user costs the same scrypt as a known one, so timing does not tell which logins exist.
    const salt = entry?.salt ?? decoySalt;
    const key = await queue.run(() => scrypt(password, salt, entry?.key.length ?? KEY_LENGTH, SCRYPT));
    return entry !== undefined && timingSafeEqual(key, entry.key) ? { user: login } : false;
  };
  return {
    authenticate: check,
    authorizeUpgrade: async (request) => {
      const basic = basicCredentials(request);
      if (!basic) return undefined;
      return (await check(basic)) || false;
    },
  };
}

function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/**
 * The login and password of an HTTP Basic `Authorization` header.
 *
 * @returns undefined when there is none (or it is malformed)
 */
export function basicCredentials(request: IncomingMessage): Credentials | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { login: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function queryParam(request: IncomingMessage, name: string): string | undefined {
  try {
    return new URL(request.url ?? '/', 'http://localhost').searchParams.get(name) ?? undefined;
  } catch {
    return undefined;
  }
}

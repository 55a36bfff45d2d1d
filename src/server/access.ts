import { randomBytes, scrypt as scryptCallback, timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
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
 * The address of the client, used to count its connections and uploads. The socket's own address: a
 * forwarded-for header is not trusted, as any client can send one.
 *
 * @param request - the upgrade request
 * @returns the IP address, or `unknown`
 */
export function clientIp(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
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
      // Undecided rather than refused: the client may still send AUTH.
      return offered !== undefined && secretsEqual(offered, token) ? true : undefined;
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

/**
 * The access hooks for a password file (CLI `--htpasswd`): `AUTH: {"login","password"}`, or HTTP Basic on
 * the upgrade request. The login becomes the user (for per-user folders).
 *
 * @param text - the password file's content, see {@link parsePasswordFile}
 * @returns the `authenticate` and `authorizeUpgrade` hooks
 */
export function passwordFileAccess(text: string): {
  authenticate: Authenticate;
  authorizeUpgrade: AuthorizeUpgrade;
} {
  const users = parsePasswordFile(text);
  const check = async ({ login, password }: Credentials): Promise<AccessDecision> => {
    if (login === undefined || password === undefined) return false;
    const entry = users.get(login);
    // An unknown user costs the same scrypt as a known one, so timing does not tell which logins exist.
    const salt = entry?.salt ?? Buffer.alloc(16);
    const key = await scrypt(password, salt, entry?.key.length ?? KEY_LENGTH, SCRYPT);
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

function basicCredentials(request: IncomingMessage): Credentials | undefined {
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

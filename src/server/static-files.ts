/**
 * Serving folders over HTTP (`staticDir`, `staticMounts`: the demo page and its bundles) so that only the
 * folder given is reachable: no dotfiles, no source maps, nothing whose real path (symlinks resolved) lies
 * outside the folder, and for a mount with `only`, just the files that pattern names (the CLI mounts the
 * package's `dist` for the browser bundles, which also holds the server's own code).
 */
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import sirv from 'sirv';

/** A folder served under a URL prefix; `only` restricts it to the paths (from `/`) the pattern matches. */
export interface StaticMount {
  dir: string;
  only?: RegExp;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface Served {
  prefix: string;
  root: string;
  only: RegExp | undefined;
  serve: ReturnType<typeof sirv>;
}

/**
 * Builds the request handler, or undefined when nothing is to be served.
 *
 * @param staticDir - served at `/`
 * @param mounts - served under their prefixes, e.g. `{ '/dist': 'dist' }`
 */
export function staticHandler(
  staticDir: string | undefined,
  mounts: Record<string, string | StaticMount> | undefined,
): Handler | undefined {
  const served: Served[] = Object.entries(mounts ?? {}).map(([prefix, mount]) => {
    const { dir, only } = typeof mount === 'string' ? { dir: mount, only: undefined } : mount;
    return serving(prefix.replace(/\/$/, ''), dir, only);
  });
  if (staticDir) served.push(serving('', staticDir, undefined));
  if (served.length === 0) return undefined;
  return (request, response) => {
    const notFound = () => {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    };
    const url = request.url ?? '/';
    const entry = served.find(
      ({ prefix }) =>
        prefix === '' || url === prefix || url.startsWith(prefix + '/') || url.startsWith(prefix + '?'),
    );
    if (!entry) return notFound();
    const rest = url.slice(entry.prefix.length) || '/';
    void allowed(entry, rest).then(
      (ok) => {
        if (!ok) return notFound();
        request.url = rest;
        entry.serve(request, response, notFound);
      },
      () => notFound(),
    );
  };
}

function serving(prefix: string, dir: string, only: RegExp | undefined): Served {
  const resolved = path.resolve(dir);
  let root = resolved;
  try {
    root = realpathSync(resolved);
  } catch {
    // A folder that does not exist yet serves nothing until it does.
  }
  return { prefix, root, only, serve: sirv(root, { dev: true, dotfiles: false }) };
}

/** Whether the path (below the mount) names a file inside the folder that may be served. */
async function allowed(entry: Served, url: string): Promise<boolean> {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url, 'http://localhost').pathname);
  } catch {
    return false;
  }
  if (pathname.includes('\0')) return false;
  const segments = pathname.split('/').filter(Boolean);
  if (segments.some((segment) => segment.startsWith('.') || segment.includes('\\'))) return false;
  if (/\.map$/i.test(pathname)) return false;
  if (entry.only && !entry.only.test(pathname)) return false;
  const file = path.join(entry.root, ...segments);
  // Whatever sirv may answer with — the file, `<name>.html`, a folder's index — must really be inside.
  const candidates = [file, `${file}.html`, path.join(file, 'index.html'), path.join(file, 'index.htm')];
  for (const candidate of candidates) {
    const real = await realpath(candidate).catch(() => undefined);
    if (real !== undefined && real !== entry.root && !real.startsWith(entry.root + path.sep)) return false;
  }
  return true;
}

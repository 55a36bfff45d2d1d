// Packs the two packages of this repository as `npm publish` would (`npm pack`, scripts skipped: the build
// has run) and lays a tarball out in a consumer project's node_modules, as `npm install <tarball>` would, with
// the consumer's other dependencies linked from this repository's node_modules (no registry: the test runs
// offline). Needs `npm run build` first.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** The element's events, its public contract: every framework's typings must keep them (sorted). */
export const EVENTS = [
  'progress',
  'success',
  'error',
  'file-rejected',
  'cancel',
  'pause',
  'resume',
  'complete',
  'warning',
].sort();

export interface Packed {
  /** The .tgz file. */
  tarball: string;
  /** Its size in bytes (what npm reports as the package size). */
  size: number;
  /** Unpacked size in bytes. */
  unpackedSize: number;
  /** Paths inside the package. */
  files: string[];
  /** The package.json that ships. */
  manifest: {
    name: string;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    bin?: Record<string, string>;
    exports?: Record<string, unknown>;
  };
}

/** `npm pack` of the root package, or of a workspace (`ws-file-upload-server`), into `destination`. */
export async function pack(destination: string, workspace?: string): Promise<Packed> {
  if (!existsSync(path.join(repo, 'dist', 'element', 'ws-file-upload.js'))) {
    throw new Error('run `npm run build` first');
  }
  const args = ['pack', '--json', '--ignore-scripts', '--pack-destination', destination];
  if (workspace) args.push('--workspace', workspace);
  const { stdout } = await run('npm', args, { cwd: repo, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
  const [report] = JSON.parse(stdout) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  const tarball = path.join(destination, report!.filename);
  const { stdout: manifest } = await run('tar', ['-xzOf', tarball, 'package/package.json'], {
    timeout: 30_000,
  });
  return {
    tarball,
    size: report!.size,
    unpackedSize: report!.unpackedSize,
    files: report!.files.map((file) => file.path),
    manifest: JSON.parse(manifest),
  };
}

/** A temp folder with `node_modules/`, for a consumer project. */
export async function consumerProject(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  await mkdir(path.join(dir, 'node_modules', '@types'), { recursive: true });
  return dir;
}

/** Unpacks `tarball` as node_modules/<name> of the project. */
export async function install(project: string, packed: Packed): Promise<string> {
  const target = path.join(project, 'node_modules', packed.manifest.name);
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', packed.tarball, '-C', target, '--strip-components=1'], { timeout: 30_000 });
  return target;
}

/** Links packages of this repository's node_modules into the project's (their own dependencies resolve
 * through the link's real path, in this repository). */
export async function link(project: string, names: string[]): Promise<void> {
  for (const name of names) {
    const from = path.join(repo, 'node_modules', name);
    if (!existsSync(from)) throw new Error(`node_modules/${name} is missing: run npm install`);
    const to = path.join(project, 'node_modules', name);
    await mkdir(path.dirname(to), { recursive: true });
    await symlink(from, to, 'dir');
  }
}

/** Runs a command, resolving with its exit code and output (never rejecting on a non-zero exit). */
export async function exec(
  file: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/**
 * A compiler's error lines grouped by file: colours taken out, each line trimmed and matched against
 * `pattern`, whose first group is the file (relative to the project) and second the message.
 */
export function diagnosticsByFile(output: string, pattern: RegExp): Map<string, string[]> {
  const byFile = new Map<string, string[]>();
  // eslint-disable-next-line no-control-regex
  for (const line of output.replace(/\u001b\[[0-9;]*m/g, '').split('\n')) {
    const match = pattern.exec(line.trim());
    if (!match) continue;
    const file = match[1]!.replace(/\\/g, '/');
    byFile.set(file, [...(byFile.get(file) ?? []), match[2]!]);
  }
  return byFile;
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

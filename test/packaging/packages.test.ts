// The two packages as adopters get them: `npm pack` of each, unpacked into a fresh consumer project. The
// front-end package must carry nothing of the server; its framework typings must accept every documented
// property and event (a TSX file compiled by tsc, a Vue SFC checked by vue-tsc) and refuse the mistakes that
// silently fail at run time; the server package must run as `ws-file-upload-server` and type-check for Node
// users. Needs `npm run build` first (`npm run test:packaging` builds).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  consumerProject,
  diagnosticsByFile,
  EVENTS,
  exec,
  install,
  link,
  pack,
  readJson,
  repo,
  type Packed,
} from './pack.ts';

const fixtures = path.join(repo, 'test', 'packaging', 'fixtures');
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const vueTsc = path.join(repo, 'node_modules', 'vue-tsc', 'bin', 'vue-tsc.js');

/** The element's public contract: removing any of these breaks users, so the typings must keep them (any order). */
const ATTRIBUTES = [
  'url',
  'multiple',
  'directory',
  'accept',
  'max-file-size',
  'max-files',
  'max-folder-files',
  'max-folder-depth',
  'concurrency',
  'auto',
  'chunk-size',
  'type',
  'offer-v2',
  'checksum',
  'window',
  'v2-chunk-size',
  'retry-delays',
  'auth-timeout',
  'answer-timeout',
  'paste-target',
  'previews',
  'disabled',
  'required',
  'name',
  'theme',
].sort();

const compilerOptions = {
  target: 'ES2022',
  module: 'ESNext',
  moduleResolution: 'Bundler',
  lib: ['ES2022', 'DOM', 'DOM.Iterable'],
  strict: true,
  noEmit: true,
  // The packed .d.ts files themselves are checked too, not only what the fixtures use of them.
  skipLibCheck: false,
  types: [],
};

/** tsc's diagnostics (`--pretty false`: `src/x.tsx(1,2): error TS2322: …`) grouped by file. */
const errorsByFile = (output: string) => diagnosticsByFile(output, /^(.+?)\(\d+,\d+\): error (TS\d+: .*)$/);

describe('packaging', () => {
  let scratch: string;
  let front: Packed;
  let server: Packed;
  const projects: string[] = [];

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'wsfu-pack-'));
    front = await pack(scratch);
    server = await pack(scratch, 'ws-file-upload-server');
  });

  after(async () => {
    for (const dir of [scratch, ...projects]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the front-end package depends on lit alone (no server, no native module) and ships no server code', () => {
    const runtime = {
      ...front.manifest.dependencies,
      ...front.manifest.optionalDependencies,
      ...front.manifest.peerDependencies,
    };
    // Block digests are WebCrypto's: lit is the front end's one runtime dependency.
    assert.deepEqual(Object.keys(runtime), ['lit']);
    assert.equal(front.manifest.bin, undefined);
    assert.equal(
      front.files.filter((file) => file.startsWith('dist/server/')).length,
      0,
      'dist/server is not in the front-end package',
    );
    assert.equal(front.manifest.exports?.['./server'], undefined, 'the ./server export is gone');
    // Source maps only where their sources travel with them (the CDN bundles, sourcesContent inside).
    for (const file of front.files.filter((name) => name.endsWith('.map'))) {
      assert.match(file, /^dist\/[^/]+\.min\.js\.map$/, `${file}: a map whose sources are not shipped`);
    }
  });

  it('the server package has the server, the protocol and the runtime dependencies of both, nothing of the browser', () => {
    assert.equal(server.manifest.name, 'ws-file-upload-server');
    assert.equal(server.manifest.bin?.['ws-file-upload-server'], './bin/ws-file-upload-server.js');
    for (const file of [
      'bin/ws-file-upload-server.js',
      'dist/server/index.js',
      'dist/server/index.d.ts',
      'dist/server/cli.js',
      'dist/protocol/index.js',
    ]) {
      assert.ok(server.files.includes(file), `${file} is in the server package`);
    }
    assert.deepEqual(
      server.files.filter((file) => /^dist\/(core|element)\//.test(file)),
      [],
      'no browser code in the server package',
    );
    for (const name of ['ws', 'pino', 'prom-client', 'sirv', '@types/ws']) {
      assert.ok(server.manifest.dependencies?.[name], `${name} is a dependency of the server package`);
    }
    assert.equal(server.manifest.dependencies?.lit, undefined);
  });

  it('custom-elements.json, the VS Code data and web-types name shipped files and every attribute and event', async () => {
    const project = await consumerProject('wsfu-cem-');
    projects.push(project);
    const root = await install(project, front);
    const manifest = await readJson<{
      modules: {
        path: string;
        declarations?: {
          tagName?: string;
          attributes?: { name: string }[];
          events?: { name: string; type?: { text: string } }[];
        }[];
        exports?: { declaration: { module?: string } }[];
      }[];
    }>(path.join(root, 'custom-elements.json'));
    for (const module of manifest.modules) {
      assert.ok(front.files.includes(module.path), `custom-elements.json names ${module.path}, which ships`);
      for (const exported of module.exports ?? []) {
        const target = exported.declaration.module;
        if (target) assert.ok(front.files.includes(target), `an export points at ${target}, which ships`);
      }
    }
    const element = manifest.modules.flatMap((module) => module.declarations ?? []).find((d) => d.tagName);
    assert.ok(element);
    assert.deepEqual(element.attributes?.map((attribute) => attribute.name).sort(), ATTRIBUTES);
    assert.deepEqual(element.events?.map((event) => event.name).sort(), EVENTS);
    for (const event of element.events ?? [])
      assert.match(event.type?.text ?? '', /^CustomEvent<\w+>$/, event.name);

    const vscode = await readJson<{ tags: { name: string; attributes: { name: string }[] }[] }>(
      path.join(root, 'dist', 'vscode.html-custom-data.json'),
    );
    assert.deepEqual(
      vscode.tags.map((tag) => tag.name),
      ['ws-file-upload'],
    );
    assert.deepEqual(vscode.tags[0]!.attributes.map((attribute) => attribute.name).sort(), ATTRIBUTES);

    const pkg = await readJson<{ 'web-types': string }>(path.join(root, 'package.json'));
    const webTypes = await readJson<{
      contributions: {
        html: {
          elements: { name: string; attributes: { name: string }[]; js: { events: { name: string }[] } }[];
        };
      };
    }>(path.join(root, pkg['web-types']));
    const [described] = webTypes.contributions.html.elements;
    assert.equal(described?.name, 'ws-file-upload');
    assert.deepEqual(described.attributes.map((attribute) => attribute.name).sort(), ATTRIBUTES);
    assert.deepEqual(described.js.events.map((event) => event.name).sort(), EVENTS);
  });

  it('resolves every documented entry point through the exports map, in Node and for TypeScript', async () => {
    const project = await consumerProject('wsfu-exports-');
    projects.push(project);
    await install(project, front);
    const entries = [
      'ws-file-upload',
      'ws-file-upload/component',
      'ws-file-upload/core',
      'ws-file-upload/protocol',
      'ws-file-upload/react',
      'ws-file-upload/vue',
      'ws-file-upload/bundle',
      'ws-file-upload/custom-elements.json',
      'ws-file-upload/web-types.json',
      'ws-file-upload/vscode.html-custom-data.json',
      'ws-file-upload/package.json',
    ];
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module' }));
    const script = `for (const entry of ${JSON.stringify(entries)}) console.log(import.meta.resolve(entry));`;
    const { code, output } = await exec(process.execPath, ['--input-type=module', '-e', script], project);
    assert.equal(code, 0, output);
    const resolved = output.trim().split('\n');
    assert.equal(resolved.length, entries.length, output);
    for (const url of resolved)
      assert.ok(url.startsWith(`file://${project}/node_modules/ws-file-upload/`), url);
    const gone = await exec(
      process.execPath,
      ['--input-type=module', '-e', "import.meta.resolve('ws-file-upload/server')"],
      project,
    );
    assert.notEqual(gone.code, 0, 'ws-file-upload/server no longer resolves');
  });

  it('compiles a TSX file using every property and event under React 19 types, and refuses each mistake', async () => {
    const project = await consumerProject('wsfu-react-');
    projects.push(project);
    await install(project, front);
    await link(project, ['lit', '@types/react', '@types/react-dom']);
    await cp(path.join(fixtures, 'react'), path.join(project, 'src'), { recursive: true });
    const files = (await readdir(path.join(project, 'src'))).sort();
    await writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...compilerOptions, jsx: 'react-jsx' }, include: ['src'] }),
    );
    const { output } = await exec(
      process.execPath,
      [tsc, '-p', 'tsconfig.json', '--pretty', 'false'],
      project,
    );
    const errors = errorsByFile(output);
    assert.deepEqual(errors.get('src/good.tsx') ?? [], [], output);
    const unexpected = [...errors.keys()].filter((file) => !/^src\/bad-[\w-]+\.tsx$/.test(file));
    assert.deepEqual(unexpected, [], `errors outside the bad fixtures:\n${output}`);
    const bad = files.filter((file) => file.startsWith('bad-'));
    assert.ok(bad.length >= 5);
    for (const file of bad)
      assert.ok(errors.get(`src/${file}`)?.length, `${file} must not compile:\n${output}`);
  });

  it('type-checks a Vue SFC using every property and event with vue-tsc, and refuses each mistake', async () => {
    const project = await consumerProject('wsfu-vue-');
    projects.push(project);
    await install(project, front);
    await link(project, ['lit', 'vue']);
    await cp(path.join(fixtures, 'vue'), path.join(project, 'src'), { recursive: true });
    await writeFile(path.join(project, 'src', 'env.d.ts'), '');
    const config = (include: string[]) =>
      JSON.stringify({
        compilerOptions: { ...compilerOptions, jsx: 'preserve' },
        // Unknown props and events are errors in templates too, as they are in TSX.
        vueCompilerOptions: { strictTemplates: true },
        include,
      });
    await writeFile(path.join(project, 'tsconfig.json'), config(['src/Good.vue']));
    const good = await exec(process.execPath, [vueTsc, '-p', 'tsconfig.json', '--pretty', 'false'], project);
    assert.equal(good.code, 0, good.output);
    for (const file of (await readdir(path.join(project, 'src'))).filter((name) => name.startsWith('Bad'))) {
      await writeFile(path.join(project, 'tsconfig.json'), config([`src/${file}`]));
      const bad = await exec(process.execPath, [vueTsc, '-p', 'tsconfig.json', '--pretty', 'false'], project);
      assert.notEqual(bad.code, 0, `${file} must not type-check:\n${bad.output}`);
      assert.match(bad.output, new RegExp(`src/${file}\\(\\d+,\\d+\\): error TS`), bad.output);
    }
  });

  it('type-checks a Node user of the server package against its published .d.ts (ws types included)', async () => {
    const project = await consumerProject('wsfu-server-types-');
    projects.push(project);
    await install(project, server);
    await link(project, ['ws', 'pino', 'prom-client', 'sirv', '@types/ws', '@types/node']);
    await cp(path.join(fixtures, 'server'), path.join(project, 'src'), { recursive: true });
    await writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          ...compilerOptions,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022'],
          types: ['node'],
        },
        include: ['src'],
      }),
    );
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module' }));
    const { code, output } = await exec(
      process.execPath,
      [tsc, '-p', 'tsconfig.json', '--pretty', 'false'],
      project,
    );
    assert.equal(code, 0, output);
  });

  it('runs the packed `ws-file-upload-server` bin: it listens, answers /livez and stops on SIGTERM', async () => {
    const project = await consumerProject('wsfu-server-bin-');
    projects.push(project);
    const root = await install(project, server);
    await link(project, ['ws', 'pino', 'prom-client', 'sirv']);
    const bin = path.join(root, server.manifest.bin!['ws-file-upload-server']!);
    const uploads = path.join(project, 'uploads');
    const child = spawn(
      process.execPath,
      [bin, '--dir', uploads, '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent'],
      {
        cwd: project,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let output = '';
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line in 20 s:\n${output}`)), 20_000);
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`exited with ${code}:\n${output}`));
        });
      });
      const response = await fetch(`http://127.0.0.1:${port}/livez`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(response.status, 200);
    } finally {
      const exited = new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) resolve(child.exitCode);
        else child.once('exit', (code) => resolve(code));
      });
      child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
      assert.equal(await exited, 0, 'exits cleanly on SIGTERM');
      clearTimeout(timeout);
    }
  });
});

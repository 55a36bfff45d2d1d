// Angular against the packed package, as docs/element.md tells an Angular user to write it: standalone
// components with CUSTOM_ELEMENTS_SCHEMA compiled by ngc under `strictTemplates`, which types `$event` from
// the element's typed addEventListener. The component binding every event with its typed detail compiles;
// a wrong detail type, an event the element does not fire and a template without the schema do not.
// Needs `npm run build` first (`npm run test:packaging` builds).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  repo,
  type Packed,
} from './pack.ts';

const fixtures = path.join(repo, 'test', 'packaging', 'fixtures', 'angular');
const ngc = path.join(repo, 'node_modules', '@angular', 'compiler-cli', 'bundles', 'src', 'bin', 'ngc.js');

/** ngc's diagnostics (`src/x.ts:1:2 - error TS2345: …`, always coloured) grouped by file. */
const ngcErrors = (output: string) =>
  diagnosticsByFile(output, /^(\S+?):\d+:\d+ - error ((?:TS|NG)\d+: .*)$/);

describe('packaging: Angular', () => {
  let scratch: string;
  let front: Packed;
  let project: string;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'wsfu-ng-pack-'));
    front = await pack(scratch);
    project = await consumerProject('wsfu-angular-');
  });

  after(async () => {
    await rm(scratch, { recursive: true, force: true });
    await rm(project, { recursive: true, force: true });
  });

  it('compiles a standalone component binding every event with its typed detail, and refuses each mistake', async () => {
    await install(project, front);
    await link(project, [
      'lit',
      'tslib',
      'rxjs',
      '@angular/core',
      '@angular/compiler',
      '@angular/compiler-cli',
    ]);
    await cp(fixtures, path.join(project, 'src'), { recursive: true });

    const good = await readFile(path.join(fixtures, 'good.component.ts'), 'utf8');
    for (const event of EVENTS)
      assert.ok(good.includes(`(${event})="`), `good.component.ts binds (${event})`);

    await writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          strict: true,
          outDir: 'out',
          rootDir: 'src',
          // The packed .d.ts files are checked without skipLibCheck by the React test; here Angular's own
          // declarations would be checked too, which is Angular's business.
          skipLibCheck: true,
          types: [],
        },
        include: ['src'],
        angularCompilerOptions: { strictTemplates: true },
      }),
    );
    const { code, output } = await exec(process.execPath, [ngc, '-p', 'tsconfig.json'], project);
    assert.notEqual(code, 0, 'the bad fixtures fail the compile');
    const errors = ngcErrors(output);
    assert.deepEqual(errors.get('src/good.component.ts') ?? [], [], output);
    const unexpected = [...errors.keys()].filter((file) => !/^src\/bad-[\w-]+\.component\.ts$/.test(file));
    assert.deepEqual(unexpected, [], `errors outside the bad fixtures:\n${output}`);
    const bad = (await readdir(fixtures)).filter((file) => file.startsWith('bad-'));
    assert.equal(bad.length, 3);
    for (const file of bad)
      assert.ok(errors.get(`src/${file}`)?.length, `${file} must not compile:\n${output}`);
    assert.match(errors.get('src/bad-without-schema.component.ts')!.join('\n'), /NG8001/);
    assert.match(errors.get('src/bad-unknown-event.component.ts')!.join('\n'), /'Event' is not assignable/);
  });
});

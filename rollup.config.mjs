// Browser bundles for a <script type="module"> from a CDN. The npm build (ESM + .d.ts per module) is tsc's
// job: `npm run build` runs tsc first, then this.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import MagicString from 'magic-string';

/** CSS text without comments and the white space that means nothing; `${}` holes stay where they are. */
const compactCss = (text) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    // Not before ':': `:host ::slotted(x)` and `:host::slotted(x)` are different selectors.
    .replace(/\s*([{};,>])\s*/g, '$1')
    .replace(/:\s+/g, ':')
    .replace(/;}/g, '}')
    .trim();

/** HTML text with each run of white space folded to one space, as the HTML parser lays it out anyway. */
const foldHtml = (text) => text.replace(/\s+/g, ' ');

const COMPACTORS = { css: compactCss, html: foldHtml, svg: foldHtml };

/** Every node of an ESTree below `node` (what rollup's `this.parse` returns). */
function* nodesOf(node) {
  if (!node || typeof node.type !== 'string') return;
  yield node;
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) for (const child of value) yield* nodesOf(child);
    else if (value && typeof value === 'object') yield* nodesOf(value);
  }
}

/**
 * Squeezes the white space and comments out of the element's Lit templates (css`…`, html`…`, svg`…`), which
 * terser leaves alone as template text: only the literal parts, never a `${}` expression. Only src/element's
 * modules, whose templates have no `<pre>`, `<textarea>` or `white-space: pre` where spaces would show.
 */
const compactLitTemplates = () => ({
  name: 'compact-lit-templates',
  transform(code, id) {
    if (!/[/\\]dist[/\\]element[/\\]/.test(id)) return null;
    // Edited through MagicString so that the bundle's source map still lines up with the code.
    const edited = new MagicString(code);
    for (const node of nodesOf(this.parse(code))) {
      if (node.type !== 'TaggedTemplateExpression' || node.tag.type !== 'Identifier') continue;
      const compact = COMPACTORS[node.tag.name];
      if (!compact) continue;
      for (const quasi of node.quasi.quasis) {
        const raw = code.slice(quasi.start, quasi.end);
        const smaller = compact(raw);
        if (smaller !== raw) edited.overwrite(quasi.start, quasi.end, smaller || ' ');
      }
    }
    return { code: edited.toString(), map: edited.generateMap({ hires: true }) };
  },
});

// Lit's modules each carry the same licence comment; the bundle states it once, up front.
const LIT_NOTICE = '/*! Lit | Copyright 2017-2024 Google LLC | BSD-3-Clause (lit.dev) */';
const minify = () =>
  terser({
    ecma: 2022,
    module: true,
    compress: { passes: 3 },
    format: { comments: (_node, comment) => comment.value.startsWith('!') },
  });

export default [
  {
    input: 'dist/core/index.js',
    output: {
      file: 'dist/ws-file-upload-core.min.js',
      format: 'es',
      sourcemap: true,
      inlineDynamicImports: true,
    },
    plugins: [nodeResolve({ browser: true }), minify()],
  },
  {
    // The element with Lit inside. `browser: true` resolves Lit's production build (no dev-mode warnings
    // or checks), which is also the smallest. What the element loads with import() comes as chunks beside
    // the entry, named relative to it, so a CDN <script type="module" src="…"> finds them.
    input: { 'ws-file-upload.bundle.min': 'dist/element/ws-file-upload.js' },
    // The chunks import what they share with the element from the entry itself, not from a third file.
    preserveEntrySignatures: 'allow-extension',
    output: {
      dir: 'dist',
      format: 'es',
      sourcemap: true,
      banner: (chunk) => (chunk.isEntry ? LIT_NOTICE : ''),
      entryFileNames: '[name].js',
      chunkFileNames: 'ws-file-upload.[name]-[hash].min.js',
    },
    plugins: [compactLitTemplates(), nodeResolve({ browser: true }), minify()],
  },
];

// Single-file browser bundles for a <script type="module"> from a CDN. The npm build (ESM + .d.ts per
// module) is tsc's job: `npm run build` runs tsc first, then this.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import MagicString from 'magic-string';

/**
 * Squeezes the whitespace and comments out of the element's css`…` template (terser leaves template text
 * alone). Only the element's own stylesheet, which has no `${}` interpolations; saves about 0.4 KB gzipped.
 */
const minifyElementCss = () => ({
  name: 'minify-element-css',
  transform(code, id) {
    if (!id.endsWith('ws-file-upload.styles.js')) return null;
    // Edited through MagicString so that the bundle's source map still lines up with the code.
    const edited = new MagicString(code);
    for (const match of code.matchAll(/css\s*`([^`$]*)`/g)) {
      const compact = match[1]
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\s+/g, ' ')
        .replace(/\s*([{}:;,>])\s*/g, '$1')
        .replace(/;}/g, '}')
        .trim();
      edited.overwrite(match.index, match.index + match[0].length, `css\`${compact}\``);
    }
    return { code: edited.toString(), map: edited.generateMap({ hires: true }) };
  },
});

export default [
  {
    input: 'dist/core/index.js',
    output: { file: 'dist/ws-file-upload-core.min.js', format: 'es', sourcemap: true },
    plugins: [nodeResolve({ browser: true }), terser({ ecma: 2022, module: true })],
  },
  {
    // The element with Lit inside, one file. `browser: true` resolves Lit's production build (no dev-mode
    // warnings or checks), which is also the smallest.
    input: 'dist/element/ws-file-upload.js',
    output: { file: 'dist/ws-file-upload.bundle.min.js', format: 'es', sourcemap: true },
    plugins: [
      minifyElementCss(),
      nodeResolve({ browser: true }),
      terser({ ecma: 2022, module: true, compress: { passes: 3 } }),
    ],
  },
];

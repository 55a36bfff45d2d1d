// Single-file browser bundles for a <script type="module"> from a CDN. The npm build (ESM + .d.ts per
// module) is tsc's job: `npm run build` runs tsc first, then this.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const plugins = () => [nodeResolve({ browser: true }), terser({ ecma: 2022, module: true })];

export default [
  {
    input: 'dist/core/index.js',
    output: { file: 'dist/ws-file-upload-core.min.js', format: 'es', sourcemap: true },
    plugins: plugins(),
  },
  {
    // The element with Lit inside, one file. `browser: true` resolves Lit's production build (no dev-mode
    // warnings or checks), which is also the smallest.
    input: 'dist/element/ws-file-upload.js',
    output: { file: 'dist/ws-file-upload.bundle.min.js', format: 'es', sourcemap: true },
    plugins: plugins(),
  },
];

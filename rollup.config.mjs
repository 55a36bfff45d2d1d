// Single-file browser bundles for a <script type="module"> from a CDN. The npm build (ESM + .d.ts per
// module) is tsc's job: `npm run build` runs tsc first, then this.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

export default [
  {
    input: 'dist/core/index.js',
    output: { file: 'dist/ws-file-upload-core.min.js', format: 'es', sourcemap: true },
    plugins: [nodeResolve({ browser: true }), terser({ ecma: 2022, module: true })],
  },
];

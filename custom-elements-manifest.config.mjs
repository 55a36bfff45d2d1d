// custom-elements.json from the element's JSDoc (@summary, @fires, @csspart, @cssprop, @slot): `npm run analyze`.
// It describes the published package, so its paths name the shipped files (dist/**/*.js), not src/**/*.ts; the
// editor data and framework typings are generated from it (scripts/framework-types.mjs).

import path from 'node:path';

/** `src/element/x.ts` (or `/src/…`, or `./x.ts` relative to the module at `from`) → `dist/element/x.js`. */
function shipped(value, from) {
  const resolved = value.startsWith('.') ? path.posix.join(path.posix.dirname(from), value) : value;
  return resolved.replace(/^\/?src\/(.+)\.ts$/, 'dist/$1.js');
}

/** Rewrites every `path` and `module` string under `node` (exports, inheritedFrom, …) of the module at `from`. */
function pointAtShippedFiles(node, from) {
  if (Array.isArray(node)) for (const item of node) pointAtShippedFiles(item, from);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'path' || key === 'module') && typeof value === 'string') node[key] = shipped(value, from);
      else pointAtShippedFiles(value, from);
    }
  }
}

export default {
  globs: ['src/element/*.ts'],
  outdir: '.',
  litelement: true,
  plugins: [
    {
      name: 'documented-events-only',
      // The element dispatches through one helper, `#emit(type, …)`; the analyzer reads that call as an event
      // named "type". The real events are the ones the class header declares with @fires.
      packageLinkPhase({ customElementsManifest }) {
        for (const module of customElementsManifest.modules) {
          for (const declaration of module.declarations ?? []) {
            if (declaration.events) {
              declaration.events = declaration.events.filter((event) => event.name !== 'type');
            }
          }
        }
      },
    },
    {
      name: 'typed-events',
      // Each @fires line starts with its type in backticks (`CustomEvent<WsFileUploadProgressDetail>`, …): that
      // becomes the event's `type`, which editors show and scripts/framework-types.mjs checks against.
      packageLinkPhase({ customElementsManifest }) {
        for (const module of customElementsManifest.modules) {
          for (const declaration of module.declarations ?? []) {
            for (const event of declaration.events ?? []) {
              const typed = /^`([^`]+)`,?\s*(.*)$/s.exec(event.description ?? '');
              if (!typed) continue;
              event.type = { text: typed[1] };
              event.description = typed[2];
            }
          }
        }
      },
    },
    {
      name: 'shipped-paths',
      packageLinkPhase({ customElementsManifest }) {
        for (const module of customElementsManifest.modules) pointAtShippedFiles(module, module.path);
      },
    },
  ],
};

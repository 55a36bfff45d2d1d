// custom-elements.json from the element's JSDoc (@summary, @fires, @csspart, @cssprop, @slot): `npm run analyze`.
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
  ],
};

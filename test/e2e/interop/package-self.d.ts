// The interop pages import the package by name, as users do; esbuild resolves it to the npm build in dist/.
// The type check runs before any build, so it is told here that the side-effect import exists.
declare module 'ws-file-upload';

// mock-socket's package.json only points at a UMD build, which the test runner cannot import as an ES module;
// the helpers import its ES build by path and borrow the package's own type declarations for it.
declare module 'mock-socket/dist/mock-socket.es.mjs' {
  export * from 'mock-socket';
}

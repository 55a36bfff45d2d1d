// The browser tests run under web-test-runner's bundled Mocha, whose globals have no installed type package
// (and dependencies are not ours to add), so the few that the specs use are declared here. Function
// declarations, not consts, so that a second declaration elsewhere merges instead of clashing.

/** What Mocha passes a test body as `this`: the few methods the specs use. */
interface MochaContext {
  /** Marks the running spec skipped (for a capability the engine lacks) and stops it. */
  skip(): never;
  /** Sets the running spec's time limit in ms. */
  timeout(ms: number): void;
}

/** A Mocha test body: may return a promise, which Mocha awaits. */
type MochaTestBody = (this: MochaContext) => void | Promise<unknown>;

/** Groups specs under a behaviour name. */
declare function describe(title: string, body: () => void): void;
/** One spec, named as a plain sentence. */
declare function it(title: string, body: MochaTestBody): void;
/** Runs before each spec of the enclosing group. */
declare function beforeEach(body: MochaTestBody): void;
/** Runs after each spec of the enclosing group, even a failed one. */
declare function afterEach(body: MochaTestBody): void;

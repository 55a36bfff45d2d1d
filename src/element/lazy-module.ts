/**
 * A module the element loads with import() the first time it is needed rather than with the element: in the
 * CDN bundle it is a chunk of its own, fetched beside the entry, so a page pays for what it uses. The host
 * renders without it until it arrives (get() returns null), then once more with it. `loading` lets the
 * element's `updateComplete` wait for it, so "render, then look" keeps working for callers and tests.
 */
import type { ReactiveControllerHost } from 'lit';

export class LazyModule<Module> {
  readonly #host: ReactiveControllerHost;
  readonly #load: () => Promise<Module>;
  readonly #onLoad: (module: Module) => void;
  #module: Module | null = null;
  #loading: Promise<Module> | null = null;

  /**
   * @param host - asked for an update when the module arrives
   * @param load - the import(), with a literal specifier so that the bundler makes it a chunk
   * @param onLoad - what the host sets up with the module, once, before that update
   * @param loaded - the module when this page loaded it already (for an earlier element): then it is set up
   *   at once, and the host never renders without it
   */
  constructor(
    host: ReactiveControllerHost,
    load: () => Promise<Module>,
    onLoad: (module: Module) => void = () => {},
    loaded: Module | null = null,
  ) {
    this.#host = host;
    this.#load = load;
    this.#onLoad = onLoad;
    if (loaded) {
      this.#module = loaded;
      onLoad(loaded);
    }
  }

  /** The module once loaded; until then null, and the load is started (once). */
  get(): Module | null {
    if (!this.#module) void this.preload().catch(() => {});
    return this.#module;
  }

  /** The load in progress, or null when it is done or has not started. */
  get loading(): Promise<Module> | null {
    return this.#module ? null : this.#loading;
  }

  /**
   * Starts the load if it has not started. A failed load (a network error fetching the chunk) rejects and
   * is started again by the next call: the host renders without the module meanwhile, and asks again at its
   * next render, never in a loop of its own.
   */
  preload(): Promise<Module> {
    if (this.#module) return Promise.resolve(this.#module);
    this.#loading ??= this.#load().then(
      (module) => {
        this.#module = module;
        this.#onLoad(module);
        this.#host.requestUpdate();
        return module;
      },
      (cause: unknown) => {
        this.#loading = null;
        throw cause;
      },
    );
    return this.#loading;
  }
}

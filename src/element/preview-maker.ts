/**
 * Thumbnails for image files, made without blocking the main thread: `createImageBitmap` decodes and
 * shrinks the image off the main thread (`resizeWidth`), the small bitmap is drawn on an OffscreenCanvas
 * through an ImageBitmapRenderingContext and encoded to a tiny PNG asynchronously; where that is missing,
 * the file itself is shown through an object URL. At most {@link PreviewOptions.concurrency} are made at
 * once, none for a non-image or a huge file, and every object URL made is revoked when its row goes (or the
 * element leaves the page: the maker is its host's reactive controller). Finished previews ask the host for
 * one render per animation frame, not one each: a render of the list costs the same for one new thumbnail
 * as for several, and previews finishing one after another must not render the list between two frames.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** How previews are made. */
export interface PreviewOptions {
  /** Thumbnail width in CSS pixels (the bitmap is this times the device pixel ratio). Default 40. */
  width: number;
  /** Largest file that gets a preview, in bytes: decoding a huge image costs memory. Default 20 MB. */
  maxBytes: number;
  /** Previews made at once. Default 2. */
  concurrency: number;
}

export const PREVIEW_DEFAULTS: PreviewOptions = { width: 40, maxBytes: 20_000_000, concurrency: 2 };

/** Where one preview is. */
type Preview =
  { state: 'waiting' } | { state: 'making' } | { state: 'ready'; url: string } | { state: 'none' };

/** Makes and keeps the previews of a list of files, keyed by the caller's id. */
export class PreviewMaker implements ReactiveController {
  readonly #options: PreviewOptions;
  readonly #host: ReactiveControllerHost;
  readonly #previews = new Map<number, Preview>();
  readonly #waiting: { key: number; file: File }[] = [];
  #making = 0;
  /** The animation frame that renders the previews finished since the last one, or 0. */
  #frame = 0;

  /**
   * @param host - renders again when a preview is ready; its leaving the page drops every preview
   * @param options - size, bound and concurrency
   */
  constructor(host: ReactiveControllerHost, options: Partial<PreviewOptions> = {}) {
    this.#host = host;
    this.#options = { ...PREVIEW_DEFAULTS, ...options };
    host.addController(this);
  }

  /** Rows made again on reconnection make their thumbnails again; until then no object URL is kept. */
  hostDisconnected(): void {
    this.clear();
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }

  /**
   * Whether a file gets a preview at all: an image type, not over `maxBytes`.
   *
   * @param file - the file
   */
  accepts(file: File): boolean {
    return file.type.startsWith('image/') && file.size > 0 && file.size <= this.#options.maxBytes;
  }

  /**
   * The preview's URL when ready; otherwise starts making it (once) and returns undefined.
   *
   * @param key - the row's id
   * @param file - its file
   * @returns an object URL for an `<img>`, or undefined
   */
  urlFor(key: number, file: File): string | undefined {
    const known = this.#previews.get(key);
    if (known) return known.state === 'ready' ? known.url : undefined;
    if (!this.accepts(file)) {
      this.#previews.set(key, { state: 'none' });
      return undefined;
    }
    this.#previews.set(key, { state: 'waiting' });
    this.#waiting.push({ key, file });
    this.#next();
    return undefined;
  }

  /**
   * Drops a row's preview and revokes its URL (a preview still being made is revoked when it is done).
   *
   * @param key - the row's id
   */
  forget(key: number): void {
    const preview = this.#previews.get(key);
    if (preview?.state === 'ready') URL.revokeObjectURL(preview.url);
    this.#previews.delete(key);
  }

  /** Drops every preview and revokes every URL. */
  clear(): void {
    for (const key of [...this.#previews.keys()]) this.forget(key);
    this.#waiting.length = 0;
  }

  #next(): void {
    while (this.#making < this.#options.concurrency && this.#waiting.length > 0) {
      // Newest first: the rows asked for last are the ones in view now (a list scrolled past leaves older
      // requests behind, made later).
      const { key, file } = this.#waiting.pop()!;
      // Forgotten while it waited.
      if (this.#previews.get(key)?.state !== 'waiting') continue;
      this.#making += 1;
      this.#previews.set(key, { state: 'making' });
      void this.#make(file).then((url) => {
        this.#making -= 1;
        const current = this.#previews.get(key);
        if (current?.state !== 'making') {
          if (url) URL.revokeObjectURL(url);
        } else {
          this.#previews.set(key, url ? { state: 'ready', url } : { state: 'none' });
          if (url) this.#renderSoon();
        }
        this.#next();
      });
    }
  }

  #renderSoon(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#host.requestUpdate();
    });
  }

  /** A small PNG of the image, or the file itself where the browser cannot shrink it; undefined on failure. */
  async #make(file: File): Promise<string | undefined> {
    const ratio = Math.min(globalThis.devicePixelRatio || 1, 3);
    const width = Math.round(this.#options.width * ratio);
    try {
      if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
        return URL.createObjectURL(file);
      }
      const bitmap = await createImageBitmap(file, { resizeWidth: width, resizeQuality: 'medium' });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('bitmaprenderer');
      if (!context) {
        bitmap.close();
        return URL.createObjectURL(file);
      }
      // Hands the bitmap over without a copy or a draw call.
      context.transferFromImageBitmap(bitmap);
      return URL.createObjectURL(await canvas.convertToBlob({ type: 'image/png' }));
    } catch {
      // An image the browser cannot decode off the main thread (SVG in some engines): the file itself.
      return file.type === 'image/svg+xml' ? URL.createObjectURL(file) : undefined;
    }
  }
}

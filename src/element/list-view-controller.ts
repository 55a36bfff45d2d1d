/**
 * The element's file list, summary line and thumbnails, whose code (list-view.ts) is loaded with import()
 * the first time the element has files, or earlier in idle time (see lazy-module.ts): until it is here they
 * render nothing, and the element's `updateComplete` waits for it. It makes the list's and the thumbnails'
 * controllers when the code arrives, so the element itself never names them.
 */
import { nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { QueueProgress, UploadItem } from '../core/index.ts';
import type { FileListController } from './file-list-controller.ts';
import type { RowContext, RowExtra } from './file-row.ts';
import type { WsFileUploadI18n } from './i18n.ts';
import { LazyModule } from './lazy-module.ts';
import type { PreviewMaker } from './preview-maker.ts';

type ListView = typeof import('./list-view.ts');

/** list-view.ts once this page has loaded it: later elements start with it (no render without their list). */
let loadedView: ListView | null = null;
const loadView = (): Promise<ListView> => import('./list-view.ts').then((view) => (loadedView = view));

/** What the controller needs from its host: it renders into `renderRoot`. */
export interface ListViewHost extends ReactiveControllerHost {
  readonly renderRoot: HTMLElement | DocumentFragment;
}

export class ListViewController {
  readonly #view: LazyModule<ListView>;
  #list: FileListController | null = null;
  #previews: PreviewMaker | null = null;
  #previewCell: RowExtra | null = null;

  /**
   * @param host - the element; renders again when the code arrives
   * @param previewsOn - the element's `previews`, read at each render
   */
  constructor(host: ListViewHost, previewsOn: () => boolean) {
    this.#view = new LazyModule(
      host,
      loadView,
      (view) => {
        this.#list = new view.FileListController(host, () =>
          host.renderRoot.querySelector<HTMLElement>('[part~="file-list-viewport"]'),
        );
        this.#previews = new view.PreviewMaker(host);
        this.#previewCell = view.previewCell(this.#previews, previewsOn);
      },
      loadedView,
    );
  }

  /** The thumbnail cell of a row, as a row extra: empty until the code is here. */
  readonly previewCell: RowExtra = (item) => this.#previewCell?.(item) ?? nothing;

  /** The load in progress, or null: what `updateComplete` waits for. */
  get loading(): Promise<unknown> | null {
    return this.#view.loading;
  }

  /**
   * Waits for the host's update, then, while the code a render asked for is loading, for it and the update
   * it brings: the host's `getUpdateComplete`.
   *
   * @param update - the host's own `getUpdateComplete`
   */
  async settled(update: () => Promise<boolean>): Promise<boolean> {
    let complete = await update();
    // Bounded: a load that failed is not waited for again until the next render asks for it.
    for (let round = 0; round < 3 && this.loading; round++) {
      await this.loading.catch(() => {});
      complete = await update();
    }
    return complete;
  }

  /**
   * Fetches the code ahead of the first file, and then readies the number formats of `locale`. A failure
   * is left to the first render with files, which asks again.
   *
   * @param locale - the element's language
   */
  preload(locale: string | undefined): void {
    this.#view.preload().then(
      (view) => view.prepareFormats(locale),
      () => {},
    );
  }

  /**
   * The queue's summary line (queue-summary.ts), or nothing until the code is here.
   *
   * @param progress - the queue's figures
   * @param count - how many items
   * @param strings - the element's strings
   * @param locale - the element's language
   */
  renderSummary(
    progress: QueueProgress,
    count: number,
    strings: WsFileUploadI18n,
    locale: string | undefined,
  ): TemplateResult | typeof nothing {
    return this.#view.get()?.renderQueueSummary(progress, count, strings, locale) ?? nothing;
  }

  /**
   * The windowed list of `items` (file-list-controller.ts, file-row.ts), or nothing until the code is here.
   *
   * @param items - the items, in order
   * @param context - what every row shares
   */
  renderList(items: readonly UploadItem[], context: RowContext): TemplateResult | typeof nothing {
    const view = this.#view.get();
    if (!view || !this.#list) return nothing;
    return this.#list.render(items, context.strings.fileList, (item, position, setSize) =>
      view.renderRow(context, item, position, setSize),
    );
  }

  /**
   * Drops a removed item's thumbnail.
   *
   * @param id - the item's id
   */
  forget(id: number): void {
    this.#previews?.forget(id);
  }
}

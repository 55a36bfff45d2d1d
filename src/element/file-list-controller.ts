/**
 * The windowed file list as a Lit reactive controller: it renders only the rows in view (plus a few), with
 * padding standing in for the others, and measures the row pitch and the scroll position to know which rows
 * those are. A first render of 500 rows is one long main-thread task, while the rows a person can see cost
 * the same for 5 files or 5000. What a row shows is the host's (see file-row.ts); this owns which rows exist.
 */
import { html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import type { UploadItem } from '../core/index.ts';
import { visibleRange, type RowRange } from './visible-range.ts';

/** Rows rendered above and below the view: enough for Tab and a wheel notch to land on a rendered row. */
const OVERSCAN = 4;
/** The row pitch assumed until one is measured (two lines of text, a bar and padding at 16px). */
const ESTIMATED_PITCH = 76;
/** The view assumed while the list has no height yet (not laid out): about a screenful of rows. */
const ESTIMATED_VIEWPORT = 10 * ESTIMATED_PITCH;

/** Renders one row: the item, its 1-based position in the whole list, and the list's length. */
export type RowRenderer = (item: UploadItem, position: number, setSize: number) => TemplateResult;

/** The list's window over the items of one host. */
export class FileListController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #findViewport: () => HTMLElement | null;
  #rowPitch = 0;
  #scrollTop = 0;
  #viewport = 0;
  /** What the last render drew: which rows, out of how many, at which pitch. */
  #rendered = { start: 0, end: 0, count: 0, pitch: 0 };
  #frame = 0;
  #observedList: HTMLElement | null = null;
  readonly #resizeObserver =
    typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => this.#handleListResize());

  /**
   * Registers itself with the host.
   *
   * @param host - the element that renders the list
   * @param findViewport - finds the rendered scrolling box (`part="file-list-viewport"`), or null
   */
  constructor(host: ReactiveControllerHost, findViewport: () => HTMLElement | null) {
    this.#host = host;
    this.#findViewport = findViewport;
    host.addController(this);
  }

  hostUpdated(): void {
    this.#observeList();
  }

  hostDisconnected(): void {
    this.#resizeObserver?.disconnect();
    this.#observedList = null;
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }

  /**
   * The list as a window: the rows in view plus {@link OVERSCAN} on each side, with padding standing in for
   * the rows above and below so that the scrollbar is true to the whole list. `aria-setsize` and
   * `aria-posinset` (set by the row renderer from its arguments) tell assistive technology where each
   * rendered row sits in the whole list.
   *
   * @param items - every item
   * @param label - the list's accessible name
   * @param renderRow - renders one row
   * @returns the scrolling box with the list in it
   */
  render(items: readonly UploadItem[], label: string, renderRow: RowRenderer): TemplateResult {
    const count = items.length;
    const pitch = this.#rowPitch || ESTIMATED_PITCH;
    const range = this.#range(count);
    this.#rendered = { ...range, count, pitch };
    // The padding sits on the list, inside the scrolling box: on the scrolling box itself it would add to
    // its max-height rather than to what scrolls.
    return html`<div part="file-list-viewport" @scroll=${this.#handleListScroll}>
      <ul
        part="file-list"
        role="list"
        aria-label=${label}
        style=${styleMap({
          paddingTop: `${range.start * pitch}px`,
          paddingBottom: `${(count - range.end) * pitch}px`,
        })}
      >
        ${repeat(
          items.slice(range.start, range.end),
          (item) => item.id,
          (item, index) => renderRow(item, range.start + index + 1, count),
        )}
      </ul>
    </div>`;
  }

  #range(count: number): RowRange {
    return visibleRange({
      count,
      pitch: this.#rowPitch || ESTIMATED_PITCH,
      scrollTop: this.#scrollTop,
      viewport: this.#viewport || ESTIMATED_VIEWPORT,
      overscan: OVERSCAN,
    });
  }

  /**
   * Watches the scrolling box and the list for size changes: the box's height decides how many rows are in
   * view, and the list's height changes when rows come or go or their pitch changes (fonts, spacing,
   * custom properties). Measured in the observer's callback, after the browser's own layout, rather than
   * here, where reading a row's position would force a layout in the middle of the task that added files.
   */
  #observeList(): void {
    const viewport = this.#findViewport();
    if (viewport === this.#observedList) return;
    this.#resizeObserver?.disconnect();
    this.#observedList = viewport;
    if (!viewport) return;
    this.#resizeObserver?.observe(viewport, { box: 'border-box' });
    if (viewport.firstElementChild) this.#resizeObserver?.observe(viewport.firstElementChild);
  }

  /** Reads the row pitch from the first two rows, then the scroll position. */
  #measureList(viewport: HTMLElement): void {
    const [first, second] = viewport.firstElementChild?.children ?? [];
    if (first && second) {
      const pitch = second.getBoundingClientRect().top - first.getBoundingClientRect().top;
      if (pitch > 0 && Math.abs(pitch - this.#rowPitch) > 0.5) this.#rowPitch = pitch;
    }
    this.#readScroll(viewport);
  }

  /** Takes the list's scroll position and height; schedules a render when other rows should show. */
  #readScroll(list: HTMLElement): void {
    this.#scrollTop = list.scrollTop;
    this.#viewport = list.clientHeight;
    if (!this.#windowChanged() || this.#frame) return;
    // On the next frame: an update now would resize the observed list inside the observer's own callback.
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#host.requestUpdate();
    });
  }

  readonly #handleListScroll = (event: Event): void => {
    const list = event.currentTarget as HTMLElement;
    // Scroll events come at most once per frame, before it is painted: rendering the new rows now (not
    // a frame later) means a fast scroll never shows blank padding.
    this.#scrollTop = list.scrollTop;
    this.#viewport = list.clientHeight;
    if (this.#windowChanged()) this.#host.requestUpdate();
  };

  /** Whether the rows (or the padding standing in for the others) differ from what the last render drew. */
  #windowChanged(): boolean {
    const { start, end, count, pitch } = this.#rendered;
    const next = this.#range(count);
    return next.start !== start || next.end !== end || (this.#rowPitch || ESTIMATED_PITCH) !== pitch;
  }

  #handleListResize(): void {
    if (this.#observedList) this.#measureList(this.#observedList);
  }
}

/**
 * The drop zone as a Lit reactive controller: its template (label, picker button, hidden file input), which
 * drags it accepts, the host's `dragover` attribute while files hover over it, and turning a drop or a pick
 * into files. Where the files of a drop come from is
 * a list of {@link DropSource}s tried in order (the plain `dataTransfer.files` last), so that other sources,
 * such as folders read entry by entry, plug in without touching the element.
 */
import { html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { FileInFolder } from '../core/index.ts';

/** A file of a pick or a drop: alone, or with the folder it came from. */
export type PickedFile = File | FileInFolder;

/**
 * Reads the files of a drop. Returns null when it does not handle this drop (the next source is asked), or
 * the files (possibly after reading them asynchronously).
 */
export type DropSource = (
  data: DataTransfer,
) => readonly PickedFile[] | Promise<readonly PickedFile[]> | null;

/** The plain source: the files the browser put in the drop. */
export const droppedFiles: DropSource = (data) => Array.from(data.files);

/** What the controller needs from its host. */
export interface DropZoneHost extends ReactiveControllerHost, HTMLElement {
  readonly renderRoot: HTMLElement | DocumentFragment;
}

/** What the zone shows, from the host's attributes and strings. */
export interface DropZoneView {
  /** The drop zone's text (behind the `drop-label` slot). */
  label: string;
  /** The picker button's text (behind the `button` slot). */
  buttonLabel: string;
  /** The picker's `accept`. */
  accept: string;
  /** Whether the picker takes several files. */
  multiple: boolean;
  /** Whether the picker picks a folder (`webkitdirectory`): its files keep their relative paths. */
  directory?: boolean;
  disabled: boolean;
}

/** The drop zone of one host element. */
export class DropZoneController implements ReactiveController {
  /** Tried in order; the first that returns files wins. Add sources before {@link droppedFiles}. */
  readonly sources: DropSource[] = [droppedFiles];
  readonly #host: DropZoneHost;
  readonly #isDisabled: () => boolean;
  readonly #onFiles: (files: readonly PickedFile[], how: 'pick' | 'drop') => void;
  readonly #onIntent: () => void;

  /**
   * Registers itself with the host.
   *
   * @param host - the element whose `dragover` attribute reflects the drag
   * @param isDisabled - whether drops are refused now
   * @param onFiles - called with the files of a pick or an accepted drop
   * @param onIntent - called when files are about to come: the picker opens, or files are dragged in (the
   *   host opens its connection meanwhile)
   */
  constructor(
    host: DropZoneHost,
    isDisabled: () => boolean,
    onFiles: (files: readonly PickedFile[], how: 'pick' | 'drop') => void,
    onIntent: () => void = () => undefined,
  ) {
    this.#host = host;
    this.#isDisabled = isDisabled;
    this.#onFiles = onFiles;
    this.#onIntent = onIntent;
    host.addController(this);
  }

  hostDisconnected(): void {
    this.#setDragging(false);
  }

  /**
   * @param view - what the zone shows
   * @returns the zone: label, picker button and the hidden input the button opens
   */
  render(view: DropZoneView): TemplateResult {
    return html`<div
      part="drop-zone"
      @dragenter=${this.handleDragEnter}
      @dragover=${this.handleDragOver}
      @dragleave=${this.handleDragLeave}
      @drop=${this.handleDrop}
    >
      <span part="drop-label" id="drop-label">
        <slot name="drop-label">${view.label}</slot>
      </span>
      <button
        part="button"
        type="button"
        aria-describedby="drop-label"
        ?disabled=${view.disabled}
        @click=${this.#handlePick}
      >
        <slot name="button">${view.buttonLabel}</slot>
      </button>
      <input
        type="file"
        hidden
        tabindex="-1"
        aria-hidden="true"
        accept=${ifDefined(view.accept || undefined)}
        ?multiple=${view.multiple}
        ?webkitdirectory=${view.directory ?? false}
        @change=${this.#handleInputChange}
      />
    </div>`;
  }

  /** The picker button, where the browser anchors validation messages; null before the first render. */
  get pickerButton(): HTMLButtonElement | null {
    return this.#host.renderRoot.querySelector('[part~="button"]');
  }

  readonly #handlePick = (): void => {
    if (this.#isDisabled()) return;
    this.#host.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click();
    this.#onIntent();
  };

  readonly #handleInputChange = (event: Event): void => {
    const input = event.currentTarget as HTMLInputElement;
    const files = input.files;
    if (files && files.length > 0) this.#onFiles(Array.from(files), 'pick');
    // Cleared so that picking the same file again fires `change` again.
    input.value = '';
  };

  /** For `@dragenter` on the zone: as a drag over it, and files are about to come. */
  readonly handleDragEnter = (event: DragEvent): void => {
    this.handleDragOver(event);
    if (event.defaultPrevented) this.#onIntent();
  };

  /** For `@dragover` on the zone (and `@dragenter`, through {@link handleDragEnter}). */
  readonly handleDragOver = (event: DragEvent): void => {
    if (this.#isDisabled() || !event.dataTransfer?.types.includes('Files')) return;
    // Cancelling dragover is what makes the zone a drop target.
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    this.#setDragging(true);
  };

  /** For `@dragleave` on the zone. */
  readonly handleDragLeave = (event: DragEvent): void => {
    const zone = event.currentTarget as HTMLElement;
    // dragleave also fires when moving onto a child of the zone; only leaving the zone itself counts.
    if (event.relatedTarget instanceof Node && zone.contains(event.relatedTarget)) return;
    this.#setDragging(false);
  };

  /** For `@drop` on the zone. */
  readonly handleDrop = (event: DragEvent): void => {
    this.#setDragging(false);
    if (this.#isDisabled()) return;
    event.preventDefault();
    const data = event.dataTransfer;
    if (!data) return;
    for (const source of this.sources) {
      const files = source(data);
      if (files === null) continue;
      if (!('then' in files)) this.#deliver(files);
      // A source reports its own failures (with a message the user sees); a rejection here is its bug, and
      // surfaces as an unhandled rejection rather than being swallowed.
      else void files.then((read: readonly PickedFile[]) => this.#deliver(read));
      return;
    }
  };

  #deliver(files: readonly PickedFile[]): void {
    if (files.length > 0) this.#onFiles(files, 'drop');
  }

  #setDragging(dragging: boolean): void {
    // Reflected so that page CSS can style the host while files hover over it.
    this.#host.toggleAttribute('dragover', dragging);
  }
}

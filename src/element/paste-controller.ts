/**
 * Files pasted into the element, or anywhere in the page when its `paste-target` is `document`, are added
 * as a drop would add them. A paste without files (text into a field) is left alone, untouched and not
 * cancelled; one with files is cancelled, so that the browser does not also insert them somewhere.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Where pastes are taken from: the element only (default), or the whole document. */
export type PasteTarget = 'element' | 'document';

/** Listens to `paste` where the host says, and hands the pasted files over. */
export class PasteController implements ReactiveController {
  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #onFiles: (files: File[]) => void;
  readonly #isEnabled: () => boolean;
  #target: PasteTarget = 'element';
  #listeningOn: EventTarget | null = null;
  readonly #listener = (event: Event): void => this.#handlePaste(event as ClipboardEvent);

  /**
   * @param host - the element
   * @param onFiles - receives the pasted files
   * @param isEnabled - false while the element is disabled
   */
  constructor(
    host: ReactiveControllerHost & HTMLElement,
    onFiles: (files: File[]) => void,
    isEnabled: () => boolean,
  ) {
    this.#host = host;
    this.#onFiles = onFiles;
    this.#isEnabled = isEnabled;
    host.addController(this);
  }

  /**
   * Listens on the element or on its document; call again when the target changes.
   *
   * @param target - where pastes are taken from
   */
  listen(target: PasteTarget): void {
    this.#target = target;
    const next = target === 'document' ? this.#host.ownerDocument : this.#host;
    if (next === this.#listeningOn) return;
    this.#stop();
    if (!this.#host.isConnected) return;
    next.addEventListener('paste', this.#listener);
    this.#listeningOn = next;
  }

  /** Listens again where it listened before the host was detached. */
  hostConnected(): void {
    this.listen(this.#target);
  }

  hostDisconnected(): void {
    this.#stop();
  }

  #stop(): void {
    this.#listeningOn?.removeEventListener('paste', this.#listener);
    this.#listeningOn = null;
  }

  #handlePaste(event: ClipboardEvent): void {
    if (!this.#isEnabled() || event.defaultPrevented) return;
    const files = pastedFiles(event.clipboardData);
    if (files.length === 0) return;
    event.preventDefault();
    this.#onFiles(files);
  }
}

/**
 * The files a clipboard holds: its `files`, or else the items of kind `file` (a screenshot pasted from the
 * system clipboard comes as an item in some browsers).
 *
 * @param data - the paste's clipboard data
 * @returns the files, possibly none
 */
export function pastedFiles(data: DataTransfer | null): File[] {
  if (!data) return [];
  const files = Array.from(data.files ?? []);
  if (files.length > 0) return files;
  return Array.from(data.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => item.getAsFile())
    .filter((file): file is File => file !== null);
}

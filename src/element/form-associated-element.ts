/**
 * Form association for `<ws-file-upload>`, as its base class: the public form API of native controls (`form`,
 * `validity`, `checkValidity()` …), a disabled `<fieldset>` followed, and the form value (the uploaded files'
 * names, under `name`) and validity (pending or paused, failed, required) kept on the element's ElementInternals.
 */
import { LitElement } from 'lit';
import type { QueueProgress } from '../core/index.ts';
import type { WsFileUploadI18n } from './i18n.ts';

/** A LitElement that takes part in forms, with a list of file names as its value. */
export abstract class FormAssociatedElement extends LitElement {
  /** Takes part in forms: its value is the names of the uploaded files. */
  static formAssociated = true;

  /** The form field name; without one nothing is submitted. */
  abstract name: string;
  /** Whether a form is invalid until a file is uploaded. */
  abstract required: boolean;
  /** The names of the uploaded files. */
  abstract readonly value: string[];

  readonly #internals: ElementInternals;
  /** Whether a disabled `<fieldset>` around the element disables it. */
  #formDisabled = false;
  /** Whether the form value must be rebuilt: it changes only when a file completes or leaves the list. */
  #valueDirty = true;

  constructor() {
    super();
    this.#internals = this.attachInternals();
  }

  /** The form the element belongs to, if any. */
  get form(): HTMLFormElement | null {
    return this.#internals.form;
  }

  /** The element's validity, as for native form controls. */
  get validity(): ValidityState {
    return this.#internals.validity;
  }

  /** The message of the current validation failure, or `''`. */
  get validationMessage(): string {
    return this.#internals.validationMessage;
  }

  /** Whether the element takes part in form validation. */
  get willValidate(): boolean {
    return this.#internals.willValidate;
  }

  /**
   * Checks validity as a native control does (fires `invalid` when not valid).
   *
   * @returns whether the element is valid
   */
  checkValidity(): boolean {
    return this.#internals.checkValidity();
  }

  /**
   * Checks validity and shows the browser's message when not valid.
   *
   * @returns whether the element is valid
   */
  reportValidity(): boolean {
    return this.#internals.reportValidity();
  }

  /**
   * Follows a disabled `<fieldset>` around the element.
   *
   * @param disabled - whether an ancestor disabled the element
   */
  formDisabledCallback(disabled: boolean): void {
    this.#formDisabled = disabled;
    this.requestUpdate();
  }

  /** Whether a disabled `<fieldset>` disables the element. */
  protected get formDisabled(): boolean {
    return this.#formDisabled;
  }

  /** The value must be rebuilt at the next {@link FormAssociatedElement.updateFormState}. */
  protected invalidateFormValue(): void {
    this.#valueDirty = true;
  }

  /**
   * Sets the form value (when it changed) and the validity from the queue's counts. Cheap: validity reads
   * the counts, and the value is rebuilt only when it changed.
   *
   * @param progress - the queue's figures
   * @param strings - the validation messages
   * @param anchor - where the browser shows its validation bubble
   */
  protected updateFormState(
    progress: QueueProgress,
    strings: WsFileUploadI18n['validation'],
    anchor?: HTMLElement,
  ): void {
    const internals = this.#internals;
    if (this.#valueDirty) {
      this.#valueDirty = false;
      const names = this.value;
      if (names.length === 0) {
        internals.setFormValue(null);
      } else {
        const data = new FormData();
        // Without a name nothing is submitted, as with native controls; the value is still kept for JS.
        for (const fileName of names) data.append(this.name || '', fileName);
        internals.setFormValue(this.name ? data : names.join('\n'));
      }
    }
    const counts = progress.counts;
    if (counts.queued + counts.connecting + counts.sending + counts.retrying + counts.paused > 0) {
      internals.setValidity({ customError: true }, strings.pending, anchor);
    } else if (counts.failed > 0) {
      internals.setValidity({ customError: true }, strings.failed, anchor);
    } else if (this.required && counts.complete === 0) {
      internals.setValidity({ valueMissing: true }, strings.required, anchor);
    } else {
      internals.setValidity({});
    }
  }
}

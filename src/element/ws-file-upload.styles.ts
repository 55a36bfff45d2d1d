import { css } from 'lit';

/** The dark values of the colour properties, for `theme="dark"` and for `auto` on a dark system. */
const dark = css`
  --ws-file-upload-color: #e6edf3;
  --ws-file-upload-muted-color: #9198a1;
  --ws-file-upload-background: #0d1117;
  --ws-file-upload-border-color: #656c76;
  --ws-file-upload-accent-color: #4493f8;
  --ws-file-upload-accent-text-color: #0d1117;
  --ws-file-upload-success-color: #3fb950;
  --ws-file-upload-error-color: #ff7b72;
  --ws-file-upload-track-color: #30363d;
  --ws-file-upload-drag-background: #12243d;
  color-scheme: dark;
`;

/** The element's shadow styles. Every colour, radius and gap is a `--ws-file-upload-*` property. */
export const styles = css`
  :host {
    --ws-file-upload-font-family: inherit;
    --ws-file-upload-font-size: 1rem;
    --ws-file-upload-color: #1f2328;
    --ws-file-upload-muted-color: #59636e;
    --ws-file-upload-background: #ffffff;
    --ws-file-upload-border-color: #8c959f;
    --ws-file-upload-accent-color: #0a66d6;
    --ws-file-upload-accent-text-color: #ffffff;
    --ws-file-upload-success-color: #1a7f37;
    --ws-file-upload-error-color: #c11e2b;
    --ws-file-upload-track-color: #e1e6eb;
    --ws-file-upload-drag-background: #e8f1fd;
    --ws-file-upload-radius: 6px;
    --ws-file-upload-spacing: 0.75rem;
    --ws-file-upload-progress-height: 0.5rem;
    --ws-file-upload-list-max-height: 24rem;
    --ws-file-upload-focus-ring: 2px solid var(--ws-file-upload-accent-color);

    display: block;
    color: var(--ws-file-upload-color);
    font-family: var(--ws-file-upload-font-family);
    font-size: var(--ws-file-upload-font-size);
    line-height: 1.4;
  }

  /* theme="dark", or theme="auto" (the default) on a dark system; theme="light" stays light everywhere, so
     a light page on a dark OS is not forced dark. */
  :host([theme='dark']) {
    ${dark}
  }

  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
    }
  }

  :host([theme='light']) {
    color-scheme: light;
  }

  :host([hidden]) {
    display: none;
  }

  /* Flex columns, not grids, for the wrapper and the list: a grid lays out all its items again when one
     changes, which with hundreds of rows costs more than the rest of the render. */
  [part~='base'] {
    display: flex;
    flex-direction: column;
    gap: var(--ws-file-upload-spacing);
  }

  [part~='drop-zone'] {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: center;
    gap: var(--ws-file-upload-spacing);
    padding: calc(var(--ws-file-upload-spacing) * 2);
    border: 2px dashed var(--ws-file-upload-border-color);
    border-radius: var(--ws-file-upload-radius);
    background: var(--ws-file-upload-background);
    text-align: center;
  }

  :host([dragover]) [part~='drop-zone'] {
    border-style: solid;
    border-color: var(--ws-file-upload-accent-color);
    background: var(--ws-file-upload-drag-background);
  }

  /* Not faded with opacity: the label must keep its contrast; the disabled button shows the state. */
  :host([disabled]) [part~='drop-zone'] {
    border-style: dotted;
  }

  button:disabled {
    opacity: 0.6;
  }

  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
    border-radius: var(--ws-file-upload-radius);
  }

  button:focus-visible {
    outline: var(--ws-file-upload-focus-ring);
    outline-offset: 2px;
  }

  button:disabled {
    cursor: not-allowed;
  }

  [part~='button'],
  [part~='upload-button'] {
    padding: 0.4em 1em;
    border: 1px solid var(--ws-file-upload-accent-color);
    background: var(--ws-file-upload-accent-color);
    color: var(--ws-file-upload-accent-text-color);
  }

  [part~='upload-button'] {
    align-self: flex-start;
  }

  [part~='file-list'],
  [part~='rejections'] {
    display: flex;
    flex-direction: column;
    gap: calc(var(--ws-file-upload-spacing) / 2);
    margin: 0;
    padding: 0;
    list-style: none;
  }

  /* The list scrolls inside the element and renders only the rows in view; its padding (set by the
     element) stands in for the rows above and below. */
  [part~='file-list-viewport'] {
    max-height: var(--ws-file-upload-list-max-height);
    overflow-y: auto;
    overscroll-behavior: contain;
  }

  [part~='rejection'] {
    color: var(--ws-file-upload-error-color);
  }

  [part~='file'] {
    display: grid;
    grid-template-columns: 1fr auto auto;
    align-items: center;
    gap: 0.25rem var(--ws-file-upload-spacing);
    padding: calc(var(--ws-file-upload-spacing) / 2) var(--ws-file-upload-spacing);
    border: 1px solid var(--ws-file-upload-border-color);
    border-radius: var(--ws-file-upload-radius);
    background: var(--ws-file-upload-background);
    /* Every row has the same height, which lets the list compute which rows are in view. */
    flex-shrink: 0;
  }

  /* With previews, a first column holds the thumbnail across the row's three lines; the row's height does
     not change (the list relies on every row having the same height). */
  [part~='file']:has(> [part~='preview']) {
    grid-template-columns: auto 1fr auto auto;
  }

  [part~='file']:has(> [part~='preview']) > [part~='progress'],
  [part~='file']:has(> [part~='preview']) > [part~='status-line'] {
    grid-column: 2 / -1;
  }

  [part~='preview'] {
    grid-column: 1;
    grid-row: 1 / span 3;
    width: 2.5rem;
    height: 2.5rem;
    border-radius: calc(var(--ws-file-upload-radius) / 2);
    background: var(--ws-file-upload-track-color);
    overflow: hidden;
  }

  [part~='preview-image'] {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: cover;
  }

  [part~='file-path'] {
    color: var(--ws-file-upload-muted-color);
    font-weight: normal;
  }

  [part~='file-name'] {
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    font-weight: 600;
  }

  [part~='file-size'],
  [part~='details'],
  [part~='summary'],
  [part~='queue-details'] {
    color: var(--ws-file-upload-muted-color);
    font-size: 0.875em;
  }

  [part~='actions'] {
    display: flex;
    gap: 0.25rem;
  }

  [part~='pause-button'],
  [part~='resume-button'],
  [part~='cancel-button'],
  [part~='retry-button'],
  [part~='remove-button'] {
    display: inline-grid;
    place-items: center;
    width: 2rem;
    height: 2rem;
    padding: 0;
    border: 1px solid var(--ws-file-upload-border-color);
    background: transparent;
  }

  svg {
    width: 1rem;
    height: 1rem;
    fill: none;
    stroke: currentColor;
    stroke-width: 2;
    stroke-linecap: round;
  }

  /* The queue's bar sits in the wrapper's column gap, close under its summary line. */
  [part~='queue-progress'] {
    height: var(--ws-file-upload-progress-height);
    border-radius: var(--ws-file-upload-progress-height);
    background: var(--ws-file-upload-track-color);
    overflow: hidden;
  }

  [part~='queue-progress-indicator'] {
    height: 100%;
    background: var(--ws-file-upload-accent-color);
    transform-origin: left;
    transition: transform 0.2s linear;
  }

  [part~='progress'] {
    grid-column: 1 / -1;
    height: var(--ws-file-upload-progress-height);
    border-radius: var(--ws-file-upload-progress-height);
    background: var(--ws-file-upload-track-color);
    overflow: hidden;
  }

  /* Scaled, not sized: a transform animates without layout, which matters with many bars moving at once. */
  [part~='progress-indicator'] {
    height: 100%;
    background: var(--ws-file-upload-accent-color);
    transform-origin: left;
    transition: transform 0.2s linear;
  }

  [part~='progress'][data-indeterminate] [part~='progress-indicator'] {
    transform: scaleX(0.3) !important;
    animation: ws-file-upload-indeterminate 1.2s ease-in-out infinite;
  }

  /* A finished bar snaps full: its last step would otherwise still be sliding while it says "Uploaded". */
  [part~='file-complete'] [part~='progress-indicator'] {
    background: var(--ws-file-upload-success-color);
    transition: none;
  }

  [part~='file-failed'] [part~='progress-indicator'] {
    background: var(--ws-file-upload-error-color);
  }

  [part~='file-failed'] [part~='status'] {
    color: var(--ws-file-upload-error-color);
  }

  /* One line, cut with an ellipsis rather than wrapped, so that a long error keeps the row's height; the
     full text stays in the DOM for screen readers. */
  [part~='status-line'] {
    grid-column: 1 / -1;
    display: flex;
    gap: 0 var(--ws-file-upload-spacing);
    min-width: 0;
    white-space: nowrap;
  }

  [part~='status'],
  [part~='details'] {
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
  }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
    border: 0;
  }

  @keyframes ws-file-upload-indeterminate {
    from {
      transform: scaleX(0.3) translateX(-100%);
    }
    to {
      transform: scaleX(0.3) translateX(340%);
    }
  }

  /* Right to left, the bars fill from the right. */
  :host(:dir(rtl)) [part~='progress-indicator'],
  :host(:dir(rtl)) [part~='queue-progress-indicator'] {
    transform-origin: right;
  }

  :host(:dir(rtl)) [part~='progress'][data-indeterminate] [part~='progress-indicator'] {
    animation-name: ws-file-upload-indeterminate-rtl;
  }

  @keyframes ws-file-upload-indeterminate-rtl {
    from {
      transform: scaleX(0.3) translateX(100%);
    }
    to {
      transform: scaleX(0.3) translateX(-340%);
    }
  }

  /* A finger needs 44 px (WCAG 2.5.5): every button grows to it on a coarse pointer. */
  @media (pointer: coarse) {
    button {
      min-width: 44px;
      min-height: 44px;
    }
  }

  /* Nothing can be dragged onto the page on a touch-only device: no "drop files here", only the button. */
  @media (hover: none) and (pointer: coarse) {
    [part~='drop-label'] {
      display: none;
    }
  }

  @media (prefers-reduced-motion: reduce) {
    [part~='progress-indicator'],
    [part~='queue-progress-indicator'] {
      transition: none;
    }
    [part~='progress'][data-indeterminate] [part~='progress-indicator'] {
      animation: none;
    }
  }

  @media (forced-colors: active) {
    [part~='drop-zone'],
    [part~='file'],
    [part~='progress'],
    [part~='queue-progress'] {
      border: 1px solid CanvasText;
    }
    :host([dragover]) [part~='drop-zone'] {
      border-color: Highlight;
    }
    [part~='progress-indicator'],
    [part~='queue-progress-indicator'] {
      background: Highlight;
      forced-color-adjust: none;
    }
    [part~='button'],
    [part~='upload-button'],
    [part~='pause-button'],
    [part~='resume-button'],
    [part~='cancel-button'],
    [part~='retry-button'],
    [part~='remove-button'] {
      border: 1px solid ButtonText;
      color: ButtonText;
      background: ButtonFace;
    }
    button:focus-visible {
      outline-color: Highlight;
    }
  }
`;

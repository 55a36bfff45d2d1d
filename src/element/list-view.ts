/**
 * What the element renders once it has files, in one module that the element loads with import()
 * (lazy-module.ts) rather than with itself: the windowed list and its rows, the queue's summary line, the
 * thumbnails and the number formats they show. An element with no files yet needs none of it; the element
 * fetches it in idle time after it is connected, so the first drop does not wait for it.
 */
export { FileListController } from './file-list-controller.ts';
export { renderRow } from './file-row.ts';
export { prepareFormats } from './format.ts';
export { PreviewMaker } from './preview-maker.ts';
export { renderQueueSummary } from './queue-summary.ts';
export { previewCell } from './row-preview.ts';

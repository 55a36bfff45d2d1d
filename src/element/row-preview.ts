/**
 * The preview cell of a row (part `preview`): the image's thumbnail once the {@link PreviewMaker} made it,
 * an empty cell before and for files without one, so that every row keeps the same columns and height.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { UploadItem } from '../core/index.ts';
import type { RowExtra } from './file-row.ts';
import type { PreviewMaker } from './preview-maker.ts';

/**
 * @param maker - makes and keeps the thumbnails
 * @param enabled - the element's `previews`, read at each render
 * @returns the row extra
 */
export function previewCell(maker: PreviewMaker, enabled: () => boolean): RowExtra {
  return (item: UploadItem): TemplateResult | typeof nothing => {
    if (!enabled()) return nothing;
    const url = maker.urlFor(item.id, item.file);
    // Decorative: the file's name is in the row already.
    return html`<span part="preview" aria-hidden="true"
      >${url ? html`<img part="preview-image" src=${url} alt="" decoding="async" />` : nothing}</span
    >`;
  };
}

/** A half-open range of row indexes: `start` is the first row rendered, `end` the one after the last. */
export interface RowRange {
  /** The first row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
}

/** What {@link visibleRange} needs to know about a scrolled list whose rows all have the same pitch. */
export interface RowWindow {
  /** How many rows the list has. */
  count: number;
  /** Distance in pixels from the top of one row to the top of the next (height plus gap); more than 0. */
  pitch: number;
  /** How far the list is scrolled, in pixels. */
  scrollTop: number;
  /** The height of the visible part of the list, in pixels. */
  viewport: number;
  /** Rows rendered beyond each edge of the view, so that Tab and small scrolls land on rendered rows. */
  overscan: number;
}

/**
 * Computes which rows of a fixed-pitch list to render: the rows that intersect the view, plus `overscan`
 * rows above and below, clamped to the list. With every row the same pitch this is arithmetic, which is
 * why the element keeps its rows to one line of status text rather than measuring each one.
 *
 * @param window - the list's geometry
 * @returns the rows to render
 */
export function visibleRange({ count, pitch, scrollTop, viewport, overscan }: RowWindow): RowRange {
  if (count <= 0 || !(pitch > 0)) return { start: 0, end: Math.max(0, count) };
  const top = Math.max(0, scrollTop);
  const start = Math.max(0, Math.min(count, Math.floor(top / pitch)) - overscan);
  const end = Math.min(count, Math.ceil((top + Math.max(0, viewport)) / pitch) + overscan);
  return { start, end: Math.max(start, end) };
}

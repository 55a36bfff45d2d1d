// Building an Intl.NumberFormat costs far more than using one, and a list of hundreds of files formats
// several numbers per row on every frame: keep one per locale and style.
const formats = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    formats.set(key, format);
  }
  return format;
}

/**
 * Formats a byte count with decimal units (1 kB = 1000 B, as operating systems show file sizes today).
 *
 * @param bytes - the count
 * @param units - unit names, smallest first
 * @param locale - for the number's digits and separator (default: the page's)
 * @returns for example `1.5 MB`
 */
export function formatSize(bytes: number, units: readonly string[], locale?: string): string {
  let value = Math.max(0, bytes);
  let index = 0;
  while (value >= 1000 && index < units.length - 1) {
    value /= 1000;
    index += 1;
  }
  // Three significant digits at most: "12.3 MB", "123 MB"; bytes are whole.
  const digits = index === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  const number = numberFormat(locale, { maximumFractionDigits: digits }).format(value);
  return `${number} ${units[index] ?? ''}`.trim();
}

/**
 * Formats seconds as a clock duration: `m:ss`, or `h:mm:ss` from one hour.
 *
 * @param seconds - the duration; not finite (unknown) gives `--:--`
 * @returns for example `1:05` or `2:03:09`
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.ceil(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Formats a percentage as a whole number with a percent sign, in the locale's way.
 *
 * @param percentage - from 0 to 100
 * @param locale - the locale (default: the page's)
 * @returns for example `42 %` or `42%`
 */
export function formatPercentage(percentage: number, locale?: string): string {
  return numberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(
    Math.floor(percentage) / 100,
  );
}

/**
 * Builds the number formats the rows use before they are needed. The first `Intl` object a page creates
 * loads the browser's locale data, which took 50–90 ms on the benchmark machine: warmed while the page is
 * idle, that cost does not land in the task that answers a drop or a pick.
 *
 * @param locale - the locale the element formats for
 */
export function prepareFormats(locale?: string): void {
  formatSize(1, ['B'], locale);
  formatSize(12_345, ['B', 'kB'], locale);
  formatSize(1_234, ['B', 'kB'], locale);
}

/**
 * {@link prepareFormats} in idle time (a timer where `requestIdleCallback` is missing), so that the locale
 * data's first load is not part of answering the first drop.
 *
 * @param locale - the locale the element formats for
 */
export function prepareFormatsWhenIdle(locale?: string): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => prepareFormats(locale));
  else setTimeout(() => prepareFormats(locale), 0);
}

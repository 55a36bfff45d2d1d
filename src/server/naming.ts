/**
 * File names from the wire are hostile until proven otherwise (OWASP file upload guidance): they may hold
 * separators, `..`, control or bidi-override characters, reserved Windows device names, or be huge.
 */

/** Longest stored name in UTF-8 bytes, leaving room for a ` (123)` suffix under the usual 255-byte limit. */
export const MAX_NAME_BYTES = 200;

const SEPARATORS = /[/\\]/g;
// C0 and C1 controls, and the characters that reorder text (RLO, LRE, isolates, marks): a name like
// "invoice\u202Efdp.exe" must not pass for a PDF.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const WINDOWS_ILLEGAL = /[<>:"|?*]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

const encoder = new TextEncoder();

/**
 * Turns a client-supplied name into one safe to create inside the upload folder: a single path segment,
 * NFC-normalised, free of controls and bidi overrides, not a reserved Windows name, not starting with a dot,
 * at most {@link MAX_NAME_BYTES} bytes with its extension kept.
 *
 * @param name - the name the client sent
 * @returns a non-empty safe name (`file` when nothing usable remains)
 */
export function sanitizeFilename(name: string): string {
  let safe = String(name)
    // A lone surrogate half has no UTF-8 form: the file system would store U+FFFD or refuse the name.
    .replace(LONE_SURROGATE, '')
    .replace(INVISIBLE, '')
    // After removing: an invisible character between a letter and its accent blocks composition.
    .normalize('NFC')
    .replace(SEPARATORS, '_')
    .replace(WINDOWS_ILLEGAL, '_');
  // Windows drops trailing dots and spaces; a leading dot hides a file and could spell `.` or `..`.
  safe = trimDotsAndSpaces(safe);
  const stem = safe.split('.')[0] ?? '';
  if (RESERVED.test(stem.trim())) safe = `_${safe}`;
  // Truncating can leave a stem ending in a dot or space, or an empty one: clean the cut once more.
  safe = trimDotsAndSpaces(truncateUtf8(safe, MAX_NAME_BYTES));
  return safe === '' ? 'file' : safe;
}

const DOT_OR_SPACE = /^[\s.]$/u;

/**
 * Strips dots and white space from both ends. A loop, not `/[\s.]+$/`: that regex retries from every dot
 * or space of a long run and costs O(n²) — one 60 KB name of spaces froze the server for 14 s.
 */
function trimDotsAndSpaces(name: string): string {
  let start = 0;
  let end = name.length;
  while (start < end && DOT_OR_SPACE.test(name[start]!)) start++;
  while (end > start && DOT_OR_SPACE.test(name[end - 1]!)) end--;
  return name.slice(start, end);
}

/** UTF-8 length of one code point. */
function utf8Bytes(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

function truncateUtf8(name: string, maxBytes: number): string {
  if (encoder.encode(name).length <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const stem = ext ? name.slice(0, dot) : name;
  const budget = maxBytes - encoder.encode(ext).length;
  // Whole code points, counted once each (linear in the name): no surrogate half is left behind.
  let bytes = 0;
  let cut = 0;
  for (const point of stem) {
    bytes += utf8Bytes(point.codePointAt(0)!);
    if (bytes > budget) break;
    cut += point.length;
  }
  return trimTrailingDotsAndSpaces(stem.slice(0, cut)) + ext;
}

function trimTrailingDotsAndSpaces(name: string): string {
  let end = name.length;
  while (end > 0 && DOT_OR_SPACE.test(name[end - 1]!)) end--;
  return name.slice(0, end);
}

/**
 * The n-th alternative of a name, used when it is taken: `a.txt`, `a (1).txt`, `a (2).txt`…
 *
 * @param name - a sanitised name
 * @param n - 0 for the name itself
 * @returns the candidate name
 */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}

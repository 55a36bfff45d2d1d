/**
 * File names from the wire are hostile until proven otherwise (OWASP file upload guidance): they may hold
 * separators, `..`, control or bidi-override characters, reserved Windows device names, or be huge. This
 * module owns turning them into one safe path segment, and the ` (n)` alternatives of a taken name.
 *
 * Every step is linear in the length of the name, or works on a prefix of bounded length: a STOR carries up
 * to `maxCommandLength` characters of name, and one message must never hold the event loop (issue 15: a
 * trim regex and a truncation loop were quadratic, and a 64 KiB name froze the server for seconds).
 */

/** Longest stored name in UTF-8 bytes, leaving room for a ` (123)` suffix under the usual 255-byte limit. */
export const MAX_NAME_BYTES = 200;
/** Longest extension (dot included, in UTF-16 code units) kept when a long name is cut. */
const MAX_EXTENSION = 16;
/**
 * Code units of the name kept before Unicode normalisation. NFC reorders runs of combining marks with a
 * quadratic sort, so it only ever sees a bounded string; the result is cut to {@link MAX_NAME_BYTES} bytes
 * (at most 200 code units) anyway, and 4 × that leaves room for what normalising composes away.
 */
const MAX_PRE_NORMALISE = 4 * MAX_NAME_BYTES;

const SEPARATORS = /[/\\]/g;
// C0 and C1 controls, and the characters that reorder text (RLO, LRE, isolates, marks): a name like
// "invoice\u202Efdp.exe" must not pass for a PDF. One flat class: linear, no backtracking.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
// A lookahead/lookbehind of one code unit each: constant work per position.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const WINDOWS_ILLEGAL = /[<>:"|?*]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
// The characters the rules above are about (dot, separators, Windows' forbidden ones) also have look-alikes
// that compatibility normalisation (NFKC) or Windows' "best fit" code-page conversion turn into them:
// fullwidth `．．／`, one- and two-dot leaders, small forms. A consumer of the upload folder that normalises
// would read `．．／etc` as `../etc`, so each is folded to the ASCII it stands for first, and the rules
// apply to that. Every BMP character whose NFKC form is made only of `./\<>:"|?*` (naming.test.ts checks
// the list against NFKC itself), plus the slashes NFKC leaves alone but fonts draw as `/` and `\`.
/** @internal */
export const LOOKALIKE_FOLD: ReadonlyMap<string, string> = new Map([
  ...[...'\u2024\ufe52\uff0e'].map((char) => [char, '.'] as const),
  ['\u2025', '..'],
  ['\ufe30', '..'],
  ['\u2026', '...'],
  ['\ufe19', '...'],
  ...[...'\uff0f\u2215\u2044\u29f8'].map((char) => [char, '/'] as const),
  ...[...'\uff3c\ufe68\u29f9'].map((char) => [char, '\\'] as const),
  ...[...'\ufe13\ufe55\uff1a'].map((char) => [char, ':'] as const),
  ...[...'\ufe16\ufe56\uff1f'].map((char) => [char, '?'] as const),
  ['\u2047', '??'],
  ...[...'\ufe61\uff0a'].map((char) => [char, '*'] as const),
  ...[...'\ufe64\uff1c'].map((char) => [char, '<'] as const),
  ...[...'\ufe65\uff1e'].map((char) => [char, '>'] as const),
  ['\uff02', '"'],
  ['\uff5c', '|'],
]);
const LOOKALIKE = new RegExp(`[${[...LOOKALIKE_FOLD.keys()].join('')}]`, 'g');
// The characters trimmed from both ends: the dot and what `\s` matches. Tested one code unit at a time,
// never as a regex anchored to the end of a long string (`[\s.]+$` backtracks quadratically over a long run
// of dots or spaces that is not at the end).
const TRIMMED = new Set(
  [
    0x2e, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
  ].concat(Array.from({ length: 11 }, (_, i) => 0x2000 + i)),
);

/**
 * Turns a client-supplied name into one safe to create inside the upload folder: a single path segment,
 * NFC-normalised, free of controls and bidi overrides, not a reserved Windows name, not starting with a dot,
 * at most {@link MAX_NAME_BYTES} bytes with its extension kept.
 *
 * @param name - the name the client sent
 * @returns a non-empty safe name (`file` when nothing usable remains)
 */
export function sanitizeFilename(name: string): string {
  const safe = sanitizeSegment(name);
  return safe === '' ? 'file' : safe;
}

/**
 * {@link sanitizeFilename} without the fallback: '' when nothing usable remains (`..`, `.`, only dots,
 * spaces or invisible characters), so that a folder path can drop such a segment instead of naming a folder
 * `file`.
 *
 * @param name - one segment the client sent
 * @returns the safe segment, or ''
 */
export function sanitizeSegment(name: string): string {
  const visible = String(name)
    // A lone surrogate half has no UTF-8 form: the file system would store U+FFFD or refuse the name.
    .replace(LONE_SURROGATE, '')
    .replace(INVISIBLE, '');
  let safe = keepHeadAndExtension(trimDotsAndSpaces(visible), MAX_PRE_NORMALISE)
    // After removing: an invisible character between a letter and its accent blocks composition.
    .normalize('NFC')
    .replace(LOOKALIKE, (char) => LOOKALIKE_FOLD.get(char)!)
    .replace(SEPARATORS, '_')
    .replace(WINDOWS_ILLEGAL, '_');
  // Windows drops trailing dots and spaces; a leading dot hides a file and could spell `.` or `..`.
  safe = trimDotsAndSpaces(safe);
  const dot = safe.indexOf('.');
  const stem = dot === -1 ? safe : safe.slice(0, dot);
  // NFKC too: fullwidth `ＣＯＮ` is `CON` to a program that converts names to a Windows code page.
  if (RESERVED.test(stem.trim()) || RESERVED.test(stem.normalize('NFKC').trim())) safe = `_${safe}`;
  // Truncating can leave a stem ending in a dot or space, or an empty one: clean the cut once more.
  return trimDotsAndSpaces(truncateUtf8(safe, MAX_NAME_BYTES));
}

/** Removes leading and trailing dots and white space, scanning from each end: linear. */
function trimDotsAndSpaces(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && TRIMMED.has(text.charCodeAt(start))) start++;
  while (end > start && TRIMMED.has(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** The extension (with its dot) a cut keeps, or '' when the name has none short enough. */
function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && name.length - dot <= MAX_EXTENSION ? name.slice(dot) : '';
}

/**
 * Cuts a name to at most `max` code units, keeping its head and its extension; never splits a surrogate
 * pair (a half left at the cut is dropped).
 */
function keepHeadAndExtension(name: string, max: number): string {
  if (name.length <= max) return name;
  const ext = extensionOf(name);
  let head = name.slice(0, max - ext.length);
  const last = head.charCodeAt(head.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
  return head + ext;
}

function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name, 'utf8') <= maxBytes) return name;
  const ext = extensionOf(name);
  const stem = ext ? name.slice(0, name.length - ext.length) : name;
  const budget = maxBytes - Buffer.byteLength(ext, 'utf8');
  // Whole code points, one pass: no surrogate half is left behind, and no re-encoding per step.
  let bytes = 0;
  let end = 0;
  for (const point of stem) {
    const size = utf8Length(point.codePointAt(0)!);
    if (bytes + size > budget) break;
    bytes += size;
    end += point.length;
  }
  return trimDotsAndSpaces(stem.slice(0, end)) + ext;
}

function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
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

/**
 * The command frame's text before any JSON is parsed: splitting `WORD: {...}` into its word and body, and
 * bounding the body's nesting. Both in one pass over the text, each character looked at a bounded number of
 * times: as a regex, `\s*:?\s*` (two adjacent optional runs of white space) backtracks quadratically on a
 * frame of white space, and one 64 KiB frame held the server for over a second (issue 15).
 */

// A command word is 3 to 5 upper-case letters (the 2012 protocol's AUTH and STOR, v2's FIN and ABOR).
const COMMAND_WORD = /^[A-Z]{3,5}$/;

/**
 * Splits `WORD[ws][:][ws]{...}[ws]` into the word and the JSON text, or undefined when the frame has another
 * shape. Each character is looked at a bounded number of times.
 */
export function splitCommand(text: string): { word: string; body: string } | undefined {
  let at = skipSpace(text, 0);
  const wordStart = at;
  while (at < text.length && at - wordStart <= 5 && isUpperAscii(text.charCodeAt(at))) at++;
  const word = text.slice(wordStart, at);
  if (!COMMAND_WORD.test(word)) return undefined;
  at = skipSpace(text, at);
  if (text[at] === ':') at = skipSpace(text, at + 1);
  let end = text.length;
  while (end > at && isSpace(text.charCodeAt(end - 1))) end--;
  if (text[at] !== '{' || text[end - 1] !== '}' || end - at < 2) return undefined;
  return { word, body: text.slice(at, end) };
}

/** Whether arrays and objects in `json` nest deeper than `max`; brackets inside strings do not count. */
export function nestingExceeds(json: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let at = 0; at < json.length; at++) {
    const code = json.charCodeAt(at);
    if (inString) {
      if (code === 0x5c)
        at++; // backslash: the next character is escaped
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > max) return true;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return false;
}

function skipSpace(text: string, from: number): number {
  let at = from;
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  return at;
}

function isUpperAscii(code: number): boolean {
  return code >= 0x41 && code <= 0x5a;
}

// What `\s` matches in a JavaScript regex (white space and line terminators).
function isSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

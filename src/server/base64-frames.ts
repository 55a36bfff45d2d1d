/**
 * Decoding the base64 data frames of protocol v1 in bounded steps. A frame may be `maxPayload` (16 MiB)
 * long; converting, checking and decoding it in one go holds the event loop for tens of milliseconds, and
 * every other connection with it. Here the frame is checked and decoded straight from its bytes, one slice
 * at a time, yielding to the event loop between slices.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

// Characters per slice: a multiple of 4, so that every slice but the last decodes on its own.
const SLICE = 1024 * 1024;
// Inside the frame only the alphabet; padding only at the very end (one flat class: linear time).
const BODY_RE = /^[A-Za-z0-9+/]*$/;
const LAST_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks that a text frame is canonical padded base64 and decodes it.
 *
 * @param frame - the frame's bytes (UTF-8; valid base64 is ASCII)
 * @returns the decoded bytes, or undefined when the frame is not valid base64
 */
export async function decodeBase64Frame(frame: Buffer): Promise<Buffer | undefined> {
  if (frame.length % 4 !== 0) return undefined;
  const padding =
    frame.length === 0 ? 0 : frame[frame.length - 1] !== 0x3d ? 0 : frame[frame.length - 2] === 0x3d ? 2 : 1;
  const out = Buffer.allocUnsafe((frame.length / 4) * 3 - padding);
  let written = 0;
  for (let at = 0; at < frame.length; at += SLICE) {
    if (at > 0) await nextTurn();
    const last = at + SLICE >= frame.length;
    // latin1 maps each byte to one character: a non-ASCII byte fails the check below.
    const text = frame.toString('latin1', at, Math.min(frame.length, at + SLICE));
    if (!(last ? LAST_RE : BODY_RE).test(text)) return undefined;
    written += out.write(text, written, 'base64');
  }
  return written === out.length ? out : undefined;
}

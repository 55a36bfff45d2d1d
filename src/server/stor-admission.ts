/**
 * The admission of one STOR before storage is touched: its name sanitised, its folder path (STOR `path`)
 * checked, and the server's `admit` hook (limits, `accept`, the disk floor) asked. A resumed upload is
 * admitted like a fresh one, so limits changed since it started still apply.
 */
import { Status, type StorCommand, type StorOffer } from '../protocol/index.ts';
import { storedFolderPath } from './folder-path.ts';
import { sanitizeFilename } from './naming.ts';
import type { ResolvedOptions } from './options.ts';
import { Refusal } from './refusal.ts';
import type { SessionEvents } from './session-events.ts';

/** Admitted (the name to store under, the sub-folder for a fresh upload, the type), or the refusal to send. */
export type StorAdmission =
  | { ok: true; filename: string; folder: string | undefined; mime: string | undefined }
  | { ok: false; refusal: Refusal };

/**
 * Admits a STOR.
 *
 * @param stor - the command
 * @param offer - its v2 offer, or null under v1
 * @param options - the server's options (folder bounds, flattening)
 * @param events - the server's hooks; `admit` is asked when there is one
 * @returns the admission
 */
export async function admitStor(
  stor: StorCommand,
  offer: StorOffer | null,
  options: Pick<ResolvedOptions, 'flattenFolders' | 'maxFolderDepth' | 'maxFolderPathLength'>,
  events: Pick<SessionEvents, 'admit'>,
): Promise<StorAdmission> {
  const filename = sanitizeFilename(stor.filename);
  const folderPath = storedFolderPath(stor.path, options);
  if (!folderPath.ok)
    return { ok: false, refusal: new Refusal('STOR', Status.badRequest, folderPath.message) };
  const mime = offer ? offer.mime : typeof stor.ext?.mime === 'string' ? stor.ext.mime : undefined;
  const admission = (await events.admit?.(
    {
      filename,
      requestedName: stor.filename,
      size: stor.size,
      mime,
      parameters: stor.parameters,
      ...(folderPath.folder !== '' ? { path: folderPath.folder } : {}),
    },
    offer ? (offer.resume ? 'resumed' : 'fresh') : undefined,
  )) ?? { ok: true };
  if (!admission.ok) return { ok: false, refusal: Refusal.of('STOR', admission) };
  // The user's folder (when configured), then the folders the file came from.
  const folder = [admission.folder, folderPath.folder].filter(Boolean).join('/') || undefined;
  return { ok: true, filename, folder, mime };
}

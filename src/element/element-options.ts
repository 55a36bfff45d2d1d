/**
 * How the element's attributes and properties become the queue's options: the number-attribute converter,
 * the fallback to defaults for out-of-range numbers (as native elements ignore bad values), and the one
 * mapping from the element's fields to {@link UploadQueueOptions}.
 */
import { MAX_CHUNK_SIZE, type PrepareHook, type UploadAuth, type UploadQueueOptions } from '../core/index.ts';

/** Reads a number attribute; absent or not a number gives undefined, so the default applies. */
export const optionalNumber = {
  fromAttribute: (value: string | null): number | undefined => {
    if (value === null || value.trim() === '') return undefined;
    const number = Number(value);
    return Number.isNaN(number) ? undefined : number;
  },
  toAttribute: (value: number | undefined): string | null => (value === undefined ? null : String(value)),
};

/**
 * @param value - a number from an attribute or property
 * @param min - the smallest accepted value
 * @param max - the largest accepted value (Infinity for none)
 * @returns the value when it is a whole number within the bounds (or Infinity for an open bound), else undefined
 */
export function inRange(value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined || Number.isNaN(value)) return undefined;
  const whole = Number.isInteger(value) || (value === Infinity && max === Infinity);
  return whole && value >= min && value <= max ? value : undefined;
}

/** The element's fields that become queue options. */
export interface ElementOptionFields {
  url: string;
  accept: string;
  multiple: boolean;
  directory: boolean;
  maxFileSize: number | undefined;
  maxFiles: number | undefined;
  concurrency: number | undefined;
  chunkSize: number | undefined;
  type: 'base64' | 'binary';
  auto: boolean;
  auth: UploadAuth | null;
  parameters: unknown;
  prepare: PrepareHook | null;
}

/**
 * Maps the element's attributes and properties onto the queue's options, one to one. A number out of range
 * (`chunk-size="0"`, `concurrency="-1"`) falls back to the default.
 *
 * @param fields - the element
 * @returns the queue's options
 */
export function queueOptionsOf(fields: ElementOptionFields): UploadQueueOptions {
  return {
    url: fields.url || undefined,
    accept: fields.accept,
    maxFileSize: inRange(fields.maxFileSize, 0, Infinity),
    // A folder holds several files: `directory` lets the list hold them as `multiple` does.
    maxFiles:
      fields.multiple || fields.directory
        ? inRange(fields.maxFiles, 0, Infinity)
        : Math.min(1, inRange(fields.maxFiles, 0, 1) ?? 1),
    concurrency: inRange(fields.concurrency, 1, Infinity),
    chunkSize: inRange(fields.chunkSize, 1, MAX_CHUNK_SIZE),
    type: fields.type === 'binary' ? 'binary' : 'base64',
    autoStart: fields.auto,
    auth: fields.auth,
    parameters: fields.parameters,
    prepare: fields.prepare ?? undefined,
  };
}

/**
 * Reads an on-by-default boolean attribute (`previews`): absent or any value means on, except `off`,
 * `false`, `none` and `no`; HTML has no other way to turn off a boolean attribute that defaults to on.
 */
export const onUnlessOff = {
  fromAttribute: (value: string | null): boolean =>
    value === null || !/^(off|false|none|no)$/i.test(value.trim()),
  toAttribute: (value: boolean): string | null => (value ? '' : 'off'),
};

import { parseBlk, parseSum } from './blocks.ts';
import { nestingExceeds, splitCommand } from './command-text.ts';
import { fail, ok, Status, type ParseResult } from './errors.ts';
import type {
  AborCommand,
  Answer,
  AnswerType,
  AuthCommand,
  ClientCommand,
  CommandName,
  FinCommand,
  StorCommand,
  TransferType,
} from './messages.ts';

/** The longest command text a parser looks at by default (64 KiB): a STOR is a few hundred bytes. */
export const DEFAULT_MAX_COMMAND_LENGTH = 64 * 1024;
/**
 * The deepest nesting of arrays and objects a command body may have by default. A STOR is 2 or 3 levels
 * deep (`parameters` as the 2012 client sends it); the bound is checked by a linear scan before
 * `JSON.parse`, so that a hook or a log that walks `parameters` never meets 30,000 levels.
 */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const COMMANDS: readonly CommandName[] = ['AUTH', 'STOR', 'FIN', 'ABOR', 'SUM', 'BLK'];
const ANSWER_TYPES: readonly AnswerType[] = ['AUTH', 'STOR', 'DATA', 'FIN', 'ABOR', 'BLK', 'ERROR', 'ALIVE'];

/**
 * The server's keep-alive message (v2, when the STOR answer granted `alive`): sent every `alive` ms on an
 * otherwise quiet server-to-client direction, so that a client, which cannot send WebSocket pings, can tell a
 * dead connection from a slow one. It answers nothing and is answered by nothing.
 */
export const ALIVE_MESSAGE = '{"type":"ALIVE","code":200}';

/**
 * Tells whether a frame from the server is a keep-alive message, which a client takes as a sign of life and
 * otherwise ignores (it is no answer to anything it sent).
 *
 * @param data - a received frame (text frames are strings)
 * @returns true for `{"type":"ALIVE",…}`
 */
export function isAliveMessage(data: unknown): boolean {
  return typeof data === 'string' && data.length <= 256 && /^\s*\{\s*"type"\s*:\s*"ALIVE"/.test(data);
}

// A command word, then `:` and/or whitespace, then a JSON object (split by command-text.ts in one pass).
// `{` and `:` are not in the base64 alphabet, so a base64 data frame can never look like a command.
const COMMAND_WORD_RE = /^\s*([A-Za-z]{3,5})\s*(?::|\{|\s\{)/;

/**
 * Tells whether a text frame is a command (as opposed to base64 data). True for anything that starts with a
 * command-like word followed by `:` or `{`, so that a misspelt command is refused rather than stored as data.
 *
 * @param text - the whole text frame
 * @returns true when the frame must be parsed with {@link parseCommand}
 */
export function looksLikeCommand(text: string): boolean {
  return COMMAND_WORD_RE.test(text.slice(0, 16));
}

/**
 * Parses a client command frame: `AUTH: {...}`, `STOR: {...}`, `STOR {...}`, with any surrounding whitespace.
 * Never throws.
 *
 * @param text - the whole text frame
 * @param maxLength - longer input is refused with 413 before it is parsed
 * @param maxDepth - a body nested deeper is refused with 400 before it is parsed
 * @returns the command, or a {@link ProtocolError} with a 4xx status
 */
export function parseCommand(
  text: string,
  maxLength = DEFAULT_MAX_COMMAND_LENGTH,
  maxDepth = DEFAULT_MAX_JSON_DEPTH,
): ParseResult<ClientCommand> {
  if (typeof text !== 'string' || text.trim() === '') return fail('emptyMessage', 'Empty message.');
  if (text.length > maxLength) {
    return fail('messageTooLong', `Command longer than ${maxLength} characters.`, Status.tooLarge);
  }
  const match = splitCommand(text);
  if (!match) {
    const word = /^\s*([A-Za-z]+)/.exec(text)?.[1];
    return word && COMMANDS.includes(word as CommandName)
      ? fail('badJson', `${word} must be followed by a JSON object.`)
      : fail('unknownCommand', `Unknown command${word ? ` "${word.slice(0, 16)}"` : ''}.`);
  }
  const name = match.word as CommandName;
  if (!COMMANDS.includes(name)) return fail('unknownCommand', `Unknown command "${name}".`);
  if (nestingExceeds(match.body, maxDepth)) {
    return fail('badJson', `The command body is nested deeper than ${maxDepth} levels.`);
  }
  const body = parseJsonObject(match.body);
  if (!body.ok) return body;
  switch (name) {
    case 'AUTH':
      return parseAuth(body.value);
    case 'STOR':
      return parseStor(body.value);
    case 'FIN':
      return parseFin(body.value);
    case 'ABOR':
      return parseAbor(body.value);
    case 'SUM':
      return parseSum(body.value);
    case 'BLK':
      return parseBlk(body.value);
  }
}

const CHECKSUM_RE = /^sha256(?:-blocks)?:[A-Za-z0-9+/]{43}=$/;
// Upload ids are printable tokens; the bound keeps a hostile id from reaching a file path or a log in full.
const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Tells whether a value is a well-formed upload id (a printable token of 1 to 128 characters).
 *
 * @param value - anything read from the wire
 * @returns true for a string that may name an upload
 */
export function isUploadId(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value);
}

function parseFin(body: Record<string, unknown>): ParseResult<FinCommand> {
  const { size, checksum } = body;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    return fail('badField', 'FIN "size" must be a non-negative integer number of bytes.');
  }
  const command: FinCommand = { command: 'FIN', size };
  if (checksum !== undefined && checksum !== null) {
    if (typeof checksum !== 'string' || !CHECKSUM_RE.test(checksum)) {
      return fail(
        'badField',
        'FIN "checksum" must be "sha256:" or "sha256-blocks:" followed by 44 characters of base64.',
      );
    }
    command.checksum = checksum;
  }
  return ok(command);
}

function parseAbor(body: Record<string, unknown>): ParseResult<AborCommand> {
  const command: AborCommand = { command: 'ABOR' };
  if (body.id !== undefined && body.id !== null) {
    if (!isUploadId(body.id)) {
      return fail('badField', 'ABOR "id" must be an upload id.');
    }
    command.id = body.id;
  }
  return ok(command);
}

/**
 * Formats `FIN: {"size":N,"checksum":"sha256:..."}`.
 *
 * @param fin - the size and, when agreed, the checksum
 * @returns the text frame
 */
export function formatFin(fin: Omit<FinCommand, 'command'>): string {
  const body: Record<string, unknown> = { size: fin.size };
  if (fin.checksum !== undefined) body.checksum = fin.checksum;
  return `FIN: ${JSON.stringify(body)}`;
}

/**
 * Formats `ABOR: {"id":"..."}`.
 *
 * @param abor - the upload id, or nothing for the current upload
 * @returns the text frame
 */
export function formatAbor(abor: Omit<AborCommand, 'command'> = {}): string {
  return `ABOR: ${JSON.stringify(abor.id === undefined ? {} : { id: abor.id })}`;
}

function parseJsonObject(json: string): ParseResult<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return fail('badJson', 'The command body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('badJson', 'The command body must be a JSON object.');
  }
  return ok(value as Record<string, unknown>);
}

function optionalString(body: Record<string, unknown>, field: string): ParseResult<string | undefined> {
  const value = body[field];
  if (value === undefined || value === null) return ok(undefined);
  return typeof value === 'string' ? ok(value) : fail('badField', `"${field}" must be a string.`);
}

function parseAuth(body: Record<string, unknown>): ParseResult<AuthCommand> {
  const command: AuthCommand = { command: 'AUTH' };
  for (const field of ['login', 'password', 'token'] as const) {
    const value = optionalString(body, field);
    if (!value.ok) return value;
    if (value.value !== undefined) command[field] = value.value;
  }
  if (command.login === undefined && command.token === undefined) {
    return fail('badField', 'AUTH needs "login" and "password", or "token".');
  }
  return ok(command);
}

function parseStor(body: Record<string, unknown>): ParseResult<StorCommand> {
  const { filename, size } = body;
  if (typeof filename !== 'string' || filename.length === 0) {
    return fail('badField', '"filename" must be a non-empty string.');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    return fail('badField', '"size" must be a non-negative integer number of bytes.');
  }
  const type = body.type ?? 'base64';
  if (type !== 'base64' && type !== 'binary') {
    return fail('badField', '"type" must be "base64" or "binary".');
  }
  const command: StorCommand = {
    command: 'STOR',
    filename,
    size,
    type: type as TransferType,
    parameters: body.parameters ?? [],
  };
  if (body.path !== undefined) {
    if (typeof body.path !== 'string') return fail('badField', '"path" must be a string.');
    command.path = body.path;
  }
  if (body.v !== undefined) {
    if (typeof body.v !== 'number' || !Number.isSafeInteger(body.v) || body.v < 1) {
      return fail('badField', '"v" must be a positive integer.');
    }
    command.v = body.v;
  }
  if (body.ext !== undefined) {
    if (body.ext === null || typeof body.ext !== 'object' || Array.isArray(body.ext)) {
      return fail('badField', '"ext" must be an object.');
    }
    command.ext = body.ext as Record<string, unknown>;
  }
  return ok(command);
}

/**
 * Formats `AUTH: {"login":...,"password":...}` (or with a token) as the 2012 client sent it.
 *
 * @param credentials - login and password, or a token
 * @returns the text frame
 */
export function formatAuth(credentials: { login?: string; password?: string; token?: string }): string {
  return `AUTH: ${JSON.stringify(credentials)}`;
}

/**
 * Formats `STOR: {"filename":...,"size":...,"type":...,"parameters":...}` on one line (the 2012 PHP server
 * matches it with a one-line regex).
 *
 * @param stor - the fields to send; `path` only for a file from a folder, `v` and `ext` only when offering
 *   extensions
 * @returns the text frame
 */
export function formatStor(stor: Omit<StorCommand, 'command'>): string {
  const { filename, size, type, parameters, path, v, ext } = stor;
  const body: Record<string, unknown> = { filename, size, type, parameters };
  if (path !== undefined && path !== '') body.path = path;
  if (v !== undefined) body.v = v;
  if (ext !== undefined) body.ext = ext;
  return `STOR: ${JSON.stringify(body)}`;
}

/**
 * Formats a server answer with its fields in the 2012 order: type, code, message, bytesRead, then extras.
 * Undefined fields are left out.
 *
 * @param answer - the answer
 * @returns the JSON text frame
 */
export function formatAnswer(answer: Answer): string {
  const { type, code, message, bytesRead, ...extra } = answer;
  const ordered: Record<string, unknown> = { type, code };
  if (message !== undefined) ordered.message = message;
  if (bytesRead !== undefined) ordered.bytesRead = bytesRead;
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) ordered[key] = value;
  return JSON.stringify(ordered);
}

/**
 * Parses a server answer. Accepts any extra fields; requires a known `type` and an integer `code`.
 * Never throws.
 *
 * @param text - the text frame from the server
 * @returns the answer, or a {@link ProtocolError} with code `badAnswer`
 */
export function parseAnswer(text: string): ParseResult<Answer> {
  if (typeof text !== 'string')
    return fail('badAnswer', 'The server sent a binary frame where an answer was due.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('badAnswer', 'The server answer is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('badAnswer', 'The server answer is not a JSON object.');
  }
  const answer = value as Record<string, unknown>;
  if (typeof answer.type !== 'string' || !ANSWER_TYPES.includes(answer.type as AnswerType)) {
    return fail('badAnswer', 'The server answer has no known "type".');
  }
  if (typeof answer.code !== 'number' || !Number.isInteger(answer.code)) {
    return fail('badAnswer', 'The server answer has no integer "code".');
  }
  if (answer.message !== undefined && typeof answer.message !== 'string') {
    return fail('badAnswer', 'The server answer\'s "message" is not a string.');
  }
  if (answer.bytesRead !== undefined && (typeof answer.bytesRead !== 'number' || !(answer.bytesRead >= 0))) {
    return fail('badAnswer', 'The server answer\'s "bytesRead" is not a non-negative number.');
  }
  if (
    answer.offset !== undefined &&
    (typeof answer.offset !== 'number' || !Number.isSafeInteger(answer.offset) || answer.offset < 0)
  ) {
    return fail('badAnswer', 'The server answer\'s "offset" is not a non-negative integer.');
  }
  if (
    answer.retryAfter !== undefined &&
    (typeof answer.retryAfter !== 'number' ||
      !(answer.retryAfter >= 0) ||
      !Number.isFinite(answer.retryAfter))
  ) {
    return fail('badAnswer', 'The server answer\'s "retryAfter" is not a number of milliseconds.');
  }
  return ok(answer as Answer);
}

// One flat character class: linear time and no backtracking stack, even on megabyte chunks.
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks that a data frame is canonical padded base64 (the alphabet of `btoa` and `FileReader.readAsDataURL`),
 * with nothing else in it. A data URL prefix (`data:...;base64,`) is not accepted: strip it first.
 *
 * @param text - the frame
 * @returns true when the text decodes without loss or junk
 */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64_RE.test(text);
}

/**
 * The number of bytes a valid base64 text decodes to, computed without decoding.
 *
 * @param text - text that passed {@link isBase64}
 * @returns the decoded byte length
 */
export function base64DecodedLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

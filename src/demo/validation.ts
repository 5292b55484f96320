/**
 * Checks on what pages send. Everything from a client is untrusted, whatever the TypeScript event
 * types say: a client can send any JSON (or binary) in place of a string. Each function takes
 * `unknown` and returns either the clean value or an error message meant for the user.
 * @module
 */

/** Longest chat message, in characters (UTF-16 code units, as the page's `maxlength` counts). */
export const MAX_MESSAGE_LENGTH = 500;
/** Longest nickname, in characters. */
export const MAX_NICKNAME_LENGTH = 24;
/** Longest room name, in characters. */
export const MAX_ROOM_NAME_LENGTH = 24;

/** The outcome of a check: the cleaned value, or why it was refused. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

// Letters and digits of any script, plus a few separators; no control or invisible characters,
// so nobody can impersonate "alice" as "alice\u200b".
const NICKNAME = /^[\p{L}\p{N}][\p{L}\p{N} _.-]*$/u;
// Room names end up in URLs and room ids: keep them to lower-case ASCII.
const ROOM_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** A nickname: 1 to 24 letters, digits, spaces, `_`, `.` or `-`, starting with a letter or digit. */
export function checkNickname(input: unknown): Checked<string> {
  if (typeof input !== "string") return { ok: false, error: "a nickname is required" };
  const nickname = input.trim();
  if (nickname.length === 0) return { ok: false, error: "a nickname is required" };
  if (nickname.length > MAX_NICKNAME_LENGTH) {
    return { ok: false, error: `nicknames are at most ${MAX_NICKNAME_LENGTH} characters` };
  }
  if (!NICKNAME.test(nickname)) {
    return { ok: false, error: "nicknames use letters, digits, spaces, '_', '.' and '-'" };
  }
  return { ok: true, value: nickname };
}

/** A room name: 1 to 24 of a-z, 0-9, `_` and `-`, starting with a letter or digit; case-folded. */
export function checkRoomName(input: unknown): Checked<string> {
  if (typeof input !== "string") return { ok: false, error: "a room name is required" };
  const room = input.trim().toLowerCase();
  if (room.length === 0) return { ok: false, error: "a room name is required" };
  if (room.length > MAX_ROOM_NAME_LENGTH) {
    return { ok: false, error: `room names are at most ${MAX_ROOM_NAME_LENGTH} characters` };
  }
  if (!ROOM_NAME.test(room)) {
    return { ok: false, error: "room names use a-z, 0-9, '_' and '-'" };
  }
  return { ok: true, value: room };
}

/**
 * A chat message: a non-blank string of at most {@link MAX_MESSAGE_LENGTH} characters. It is kept
 * as typed (HTML included): escaping is the page's job when it displays it (with `textContent`),
 * because only the page knows the context the text is displayed in.
 */
export function checkMessageText(input: unknown): Checked<string> {
  if (typeof input !== "string") return { ok: false, error: "a message must be text" };
  if (input.trim().length === 0) return { ok: false, error: "the message is empty" };
  if (input.length > MAX_MESSAGE_LENGTH) {
    return {
      ok: false,
      error: `message too long: ${input.length} characters, the limit is ${MAX_MESSAGE_LENGTH}`,
    };
  }
  return { ok: true, value: input };
}

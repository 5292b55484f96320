/**
 * Parsing of `emit <event> <json...>` lines: an event name (a bare word, or a JSON string for
 * names with spaces) followed by JSON values separated by white space, e.g.
 * `emit chat "hello" {"to":"room1"} 42`.
 * @module
 */

/** A parsed `emit` line, or why it could not be parsed. */
export type EmitCommand =
  | { ok: true; event: string; args: unknown[] }
  | { ok: false; message: string };

function isSpace(char: string | undefined): boolean {
  return char === " " || char === "\t";
}

/** Index just past the JSON string opening at `start`, or -1 when it is not closed. */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  return -1;
}

/** Index just past the JSON value starting at `start`, or -1 when it is not closed. */
function endOfValue(text: string, start: number): number {
  const first = text[start];
  if (first === '"') return endOfString(text, start);
  if (first === "{" || first === "[") {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const char = text[i];
      if (char === '"') {
        i = endOfString(text, i);
        if (i === -1) return -1;
        i--;
      } else if (char === "{" || char === "[") depth++;
      else if (char === "}" || char === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // Numbers, true, false, null: up to the next space.
  let i = start;
  while (i < text.length && !isSpace(text[i])) i++;
  return i;
}

/** Parses what follows `emit ` (the event name and its JSON arguments). */
export function parseEmitCommand(rest: string): EmitCommand {
  let i = 0;
  while (isSpace(rest[i])) i++;
  if (i === rest.length)
    return { ok: false, message: 'usage: emit <event> [json ...], e.g. emit join "room1"' };
  let event: string;
  let end: number;
  if (rest[i] === '"') {
    end = endOfString(rest, i);
    if (end === -1) return { ok: false, message: "the event name's closing quote is missing" };
    try {
      event = String(JSON.parse(rest.slice(i, end)));
    } catch {
      return { ok: false, message: `the event name is not a JSON string: ${rest.slice(i, end)}` };
    }
  } else {
    end = i;
    while (end < rest.length && !isSpace(rest[end])) end++;
    event = rest.slice(i, end);
  }
  const args: unknown[] = [];
  i = end;
  for (;;) {
    while (isSpace(rest[i])) i++;
    if (i >= rest.length) break;
    const valueEnd = endOfValue(rest, i);
    if (valueEnd === -1)
      return { ok: false, message: `argument ${args.length + 1} is not closed: ${rest.slice(i)}` };
    if (valueEnd < rest.length && !isSpace(rest[valueEnd]))
      return {
        ok: false,
        message: `argument ${args.length + 1} must be followed by a space: ${rest.slice(i)}`,
      };
    const source = rest.slice(i, valueEnd);
    try {
      args.push(JSON.parse(source));
    } catch {
      return {
        ok: false,
        message: `argument ${args.length + 1} is not JSON: ${source} (strings need double quotes)`,
      };
    }
    i = valueEnd;
  }
  return { ok: true, event, args };
}

/**
 * The UTF-8 length of a string, counted without encoding it: what `TextEncoder` and
 * `Buffer.byteLength` give, a lone surrogate counting as U+FFFD (3 bytes). Shared by the
 * client's send buffer (polling payload sizes, in browsers too) and the MessagePack encoder.
 * @module
 */

/** The UTF-8 length of `text` from code unit `from` on. */
export function utf8Length(text: string, from = 0): number {
  let bytes = 0;
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    // A high surrogate followed by a low one: one 4-byte character, not two 3-byte ones.
    if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes++;
      i++;
    }
  }
  return bytes;
}

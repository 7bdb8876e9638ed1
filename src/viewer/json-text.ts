/**
 * JSON text with every `<` written as `\u003c`: the same value once parsed, but no span value can
 * read as markup even where a browser or proxy ignored the content type.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

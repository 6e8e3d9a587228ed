/** Matches text against a glob where `*` is any run of characters and `?` one character. Case-sensitive. */
export function globMatch(pattern: string, text: string): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[\\s\\S]*')
    .replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${escaped}$`).test(text);
}

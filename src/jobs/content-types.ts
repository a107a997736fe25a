// Declared content types: syntax (it becomes a signed header, so no CR/LF or junk) and the
// ALLOWED_CONTENT_TYPES list with wildcards (`image/*`, `*/*`).

const token = "[a-z0-9!#$&^_.+-]+";
/** type/subtype with optional parameters (RFC 9110 media-type, without obs-text). */
export const mediaTypePattern = new RegExp(`^${token}/${token}(\\s*;\\s*${token}=(${token}|"[^"\\\\\\r\\n]*"))*$`, 'i');
/** A header value this long is not a media type anyone uses. */
export const maxContentTypeChars = 255;

/** `text/csv; charset=utf-8` → `text/csv`. */
export function essence(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

export function isContentTypeAllowed(contentType: string, allowed: readonly string[]): boolean {
  const [type, subtype] = essence(contentType).split('/');
  return allowed.some((pattern) => {
    if (pattern === '*/*') return true;
    const [allowedType, allowedSubtype] = pattern.split('/');
    return allowedType === type && (allowedSubtype === '*' || allowedSubtype === subtype);
  });
}

/**
 * Equal as media types: case and the spacing around parameters do not matter, so a store that
 * writes `text/csv;charset=utf-8` back for `text/csv; charset=UTF-8` is not a mismatch.
 */
export function sameMediaType(a: string, b: string): boolean {
  const normalize = (type: string) =>
    type
      .split(';')
      .map((part) => part.trim().toLowerCase())
      .filter((part) => part !== '')
      .join(';');
  return normalize(a) === normalize(b);
}

// What a CSV cell holds, read straight from its UTF-8 bytes: no string, no regular expression and
// no Date.parse per cell, because this runs once for every cell of the file.

/** The kinds a non-empty cell can be; the numbers index `ColumnProfile.kinds`. */
export const cellKinds = ['integer', 'decimal', 'boolean', 'date', 'datetime', 'string', 'null'] as const;
export type CellKindName = (typeof cellKinds)[number];
export const kindInteger = 0;
export const kindDecimal = 1;
export const kindBoolean = 2;
export const kindDate = 3;
export const kindDatetime = 4;
export const kindString = 5;
/** A missing-value marker (`NA`, `null`, `#N/A`…): not a value, not text either. */
export const kindNull = 6;
export type CellKind = 0 | 1 | 2 | 3 | 4 | 5 | 6;

const millisecondsPerDay = 86_400_000;
/** Digits that always fit a double exactly (10^15 < 2^53), so they are summed without rounding. */
const maxExactDigits = 15;
/** 10^22 is the largest power of ten a double holds exactly: the bound of the exact fast path. */
const maxExactPowerOfTen = 22;
const powersOfTen = Array.from({ length: maxExactPowerOfTen + 1 }, (_, exponent) => 10 ** exponent);

/**
 * What pandas' `read_csv` reads as missing by default (its `na_values`, less the empty string,
 * which is counted as empty), so a numeric column with `NA` holes stays numeric.
 */
const nullMarkers = new Set([
  '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>',
  'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
]);
const longestNullMarker = Math.max(...[...nullMarkers].map((marker) => marker.length));
/** The first two characters of each marker, so most text is ruled out without a substring. */
const nullMarkerPrefixes = new Set([...nullMarkers].map((marker) => marker.charCodeAt(0) * 0x100 + marker.charCodeAt(1)));
const latin1 = new TextDecoder('latin1');

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Reads cells. `classify` returns the kind and leaves the value in `number` (integers and
 * decimals) or `time` (dates and date-times, epoch milliseconds, UTC); `exactInteger` says the
 * integer is beyond 2^53, where the double is only close and the digits are the value.
 */
export class CellReader {
  number = 0;
  time = 0;
  exactInteger = false;

  /** `bytes[start..end)` is trimmed and not empty. */
  classify(text: Uint8Array, start: number, end: number): CellKind {
    const first = text[start] as number;
    if (isDigit(first) || first === 0x2d || first === 0x2b || first === 0x2e) {
      const numeric = this.readNumber(text, start, end);
      if (numeric !== kindString) return numeric;
      if (end - start >= 10 && this.readDate(text, start, end)) return end - start === 10 ? kindDate : kindDatetime;
      return this.isNullMarker(text, start, end) ? kindNull : kindString;
    }
    const length = end - start;
    if (length === 4 || length === 5) {
      const lower = first | 0x20;
      if ((lower === 0x74 && length === 4 && equalsIgnoreCase(text, start, 'true')) || (lower === 0x66 && length === 5 && equalsIgnoreCase(text, start, 'false'))) {
        return kindBoolean;
      }
    }
    return this.isNullMarker(text, start, end) ? kindNull : kindString;
  }

  private isNullMarker(text: Uint8Array, start: number, end: number): boolean {
    if (end - start < 2 || end - start > longestNullMarker) return false;
    // The markers are ASCII, so reading the bytes as Latin-1 gives their text.
    return nullMarkerPrefixes.has((text[start] as number) * 0x100 + (text[start + 1] as number)) && nullMarkers.has(latin1.decode(text.subarray(start, end)));
  }

  /**
   * An optional sign, digits with at most one point, an optional exponent; at least one digit
   * before the exponent. Small values are computed exactly from the digits (a correctly rounded
   * division of two exact doubles, as Number() would give); the rest go through Number().
   */
  private readNumber(text: Uint8Array, start: number, end: number): CellKind {
    let index = start;
    const sign = text[index] as number;
    if (sign === 0x2d || sign === 0x2b) index += 1;
    let mantissa = 0;
    let digits = 0;
    let fractionDigits = 0;
    let point = false;
    for (; index < end; index += 1) {
      const code = text[index] as number;
      if (isDigit(code)) {
        digits += 1;
        mantissa = mantissa * 10 + (code - 0x30);
        if (point) fractionDigits += 1;
      } else if (code === 0x2e && !point) {
        point = true;
      } else {
        break;
      }
    }
    if (digits === 0) return kindString;
    if (index === end && !point) {
      this.number = digits > maxExactDigits ? Number(latin1.decode(text.subarray(start, end))) : sign === 0x2d ? -mantissa : mantissa;
      this.exactInteger = !Number.isSafeInteger(this.number);
      return kindInteger;
    }
    let exponent = 0;
    if (index < end) {
      const marker = text[index] as number;
      if (marker !== 0x65 && marker !== 0x45) return kindString;
      index += 1;
      const exponentSign = text[index] as number;
      if (exponentSign === 0x2d || exponentSign === 0x2b) index += 1;
      const exponentStart = index;
      for (; index < end; index += 1) {
        const code = text[index] as number;
        if (!isDigit(code)) return kindString;
        exponent = exponent * 10 + (code - 0x30);
      }
      if (index === exponentStart) return kindString;
      if (exponentSign === 0x2d) exponent = -exponent;
    }
    this.exactInteger = false;
    const scale = exponent - fractionDigits;
    let value: number;
    if (digits <= maxExactDigits && scale <= 0 && scale >= -maxExactPowerOfTen) value = mantissa / (powersOfTen[-scale] as number);
    else if (digits <= maxExactDigits && scale > 0 && scale <= maxExactPowerOfTen) value = mantissa * (powersOfTen[scale] as number);
    else value = Number(latin1.decode(text.subarray(sign === 0x2b ? start + 1 : start, end)));
    this.number = sign === 0x2d && value > 0 ? -value : value;
    return kindDecimal;
  }

  /**
   * ISO 8601 calendar dates and date-times, the spelling that reads the same in every locale:
   * `YYYY-MM-DD`, then optionally `T` or a space, `HH:MM`, `:SS`, a fraction, and `Z` or an offset
   * (`+HH`, `+HH:MM`, `+HHMM`). Every field is range-checked, so `2021-02-30` or `24:00` is text,
   * not a date rolled over into the next month. A date-time without a zone is taken as UTC, which
   * orders it correctly against others without a zone.
   */
  private readDate(text: Uint8Array, start: number, end: number): boolean {
    if ((text[start + 4] as number) !== 0x2d || (text[start + 7] as number) !== 0x2d) return false;
    const year = fixedDigits(text, start, 4, end);
    const month = fixedDigits(text, start + 5, 2, end);
    const day = fixedDigits(text, start + 8, 2, end);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
    let time = daysFromCivil(year, month, day) * millisecondsPerDay;
    let index = start + 10;
    if (index < end) {
      const separator = text[index] as number;
      if ((separator !== 0x54 && separator !== 0x20) || end - index < 6 || (text[index + 3] as number) !== 0x3a) return false;
      const hour = fixedDigits(text, index + 1, 2, end);
      const minute = fixedDigits(text, index + 4, 2, end);
      if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
      time += (hour * 60 + minute) * 60_000;
      index += 6;
      if (index < end && (text[index] as number) === 0x3a) {
        const second = fixedDigits(text, index + 1, 2, end);
        if (second < 0 || second > 59) return false;
        time += second * 1000;
        index += 3;
        if (index < end && ((text[index] as number) === 0x2e || (text[index] as number) === 0x2c)) {
          index += 1;
          let scale = 100;
          const fractionStart = index;
          for (; index < end && isDigit(text[index] as number); index += 1) {
            time += ((text[index] as number) - 0x30) * scale;
            scale /= 10;
          }
          if (index === fractionStart || index - fractionStart > 9) return false;
          time = Math.floor(time);
        }
      }
      if (index < end) {
        const zone = text[index] as number;
        if (zone === 0x5a || zone === 0x7a) {
          index += 1;
        } else if (zone === 0x2b || zone === 0x2d) {
          const offsetHours = fixedDigits(text, index + 1, 2, end);
          index += 3;
          let offsetMinutes = 0;
          if (index < end) {
            if ((text[index] as number) === 0x3a) index += 1;
            offsetMinutes = fixedDigits(text, index, 2, end);
            index += 2;
          }
          if (offsetHours < 0 || offsetHours > 23 || offsetMinutes < 0 || offsetMinutes > 59) return false;
          const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
          time += zone === 0x2b ? -offset : offset;
        } else {
          return false;
        }
      }
      if (index !== end) return false;
    }
    this.time = time;
    return true;
  }
}

/** The value of `count` ASCII digits at `start`, or -1 when one is not a digit or lies past `end`. */
function fixedDigits(text: Uint8Array, start: number, count: number, end: number): number {
  if (start + count > end) return -1;
  let value = 0;
  for (let index = start; index < start + count; index += 1) {
    const code = text[index] as number;
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - 0x30);
  }
  return value;
}

function equalsIgnoreCase(text: Uint8Array, start: number, lowerWord: string): boolean {
  for (let index = 0; index < lowerWord.length; index += 1) {
    if (((text[start + index] as number) | 0x20) !== lowerWord.charCodeAt(index)) return false;
  }
  return true;
}

/**
 * Compares two integers written in decimal (an optional sign, digits) exactly, however many
 * digits they have: the sign, then the count of significant digits, then the digits.
 */
export function compareIntegerText(left: string, right: string): number {
  const leftNegative = left.charCodeAt(0) === 0x2d;
  const rightNegative = right.charCodeAt(0) === 0x2d;
  const leftDigits = significantDigits(left);
  const rightDigits = significantDigits(right);
  const leftZero = leftDigits === '0';
  const rightZero = rightDigits === '0';
  const leftSign = leftZero ? 0 : leftNegative ? -1 : 1;
  const rightSign = rightZero ? 0 : rightNegative ? -1 : 1;
  if (leftSign !== rightSign) return leftSign < rightSign ? -1 : 1;
  if (leftSign === 0) return 0;
  let magnitude = leftDigits.length - rightDigits.length;
  if (magnitude === 0) magnitude = leftDigits < rightDigits ? -1 : leftDigits > rightDigits ? 1 : 0;
  return leftSign * Math.sign(magnitude);
}

/** The digits of an integer without its sign and leading zeros (`'0'` for zero). */
export function significantDigits(integer: string): string {
  let index = 0;
  const first = integer.charCodeAt(0);
  if (first === 0x2d || first === 0x2b) index = 1;
  while (index < integer.length - 1 && integer.charCodeAt(index) === 0x30) index += 1;
  return integer.slice(index);
}

/** The integer as a JSON-safe value: a number while exact, else its canonical digits as a string. */
export function canonicalInteger(integer: string): number | string {
  const digits = significantDigits(integer);
  const negative = integer.charCodeAt(0) === 0x2d && digits !== '0';
  const value = Number(digits);
  if (Number.isSafeInteger(value)) return negative ? -value : value;
  return negative ? `-${digits}` : digits;
}

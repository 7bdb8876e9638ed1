/** Inject/extract into a plain object of string values (OpenTracing's `text_map`). */
export const FORMAT_TEXT_MAP = 'text_map';
/** Inject/extract into HTTP headers: keys are case-insensitive, values header-safe (`http_headers`). */
export const FORMAT_HTTP_HEADERS = 'http_headers';
/** Inject/extract into a `{ buffer }` carrier of bytes (`binary`). */
export const FORMAT_BINARY = 'binary';

export type Format = typeof FORMAT_TEXT_MAP | typeof FORMAT_HTTP_HEADERS | typeof FORMAT_BINARY;

/** The binary carrier: `inject` sets `buffer`, `extract` reads it. Mirrors OpenTracing's `BinaryCarrier`. */
export class BinaryCarrier {
  buffer: ArrayLike<number> | null;
  constructor(buffer?: ArrayLike<number> | null) {
    this.buffer = buffer ?? null;
  }
}

/**
 * One way to read and write every carrier users hand us: Node's `IncomingHttpHeaders`
 * (lower-case keys, arrays for repeats), plain objects with any key case, fetch `Headers`,
 * `Map`, and undici's flat `[name, value, name, value]` arrays.
 * Propagators ask for lower-case names and never learn which carrier they have.
 */
export interface CarrierGetter {
  /** The value(s) of the header `name` (lower-case), or undefined when absent. */
  get(carrier: unknown, name: string): string | readonly string[] | undefined;
  /** Header names present (lower-case), for formats with prefixed keys such as `uberctx-*`. */
  keys(carrier: unknown): string[];
}

export interface CarrierSetter {
  set(carrier: unknown, name: string, value: string): void;
}

const hasOwn = Object.prototype.hasOwnProperty;

interface HeadersLike {
  get(name: string): string | null;
  set(name: string, value: string): void;
  forEach(cb: (value: string, key: string) => void): void;
}

function isHeadersLike(c: object): c is HeadersLike {
  return typeof (c as HeadersLike).get === 'function' && typeof (c as HeadersLike).forEach === 'function' && !(c instanceof Map);
}

function toValue(v: unknown): string | readonly string[] | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const item of v) if (typeof item === 'string') out.push(item);
    return out.length === 0 ? undefined : out;
  }
  if (typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return undefined;
}

function getFromArray(carrier: readonly unknown[], name: string): string | readonly string[] | undefined {
  let found: string[] | undefined;
  // undici gives either [k, v, k, v] (strings or Buffers) or [[k, v], ...] (fetch's HeadersInit).
  if (carrier.length > 0 && Array.isArray(carrier[0])) {
    for (const pair of carrier as unknown[][]) {
      if (pair.length >= 2 && typeof pair[0] === 'string' && pair[0].toLowerCase() === name) {
        const v = toValue(pair[1]);
        if (typeof v === 'string') (found ??= []).push(v);
      }
    }
  } else {
    for (let i = 0; i + 1 < carrier.length; i += 2) {
      const k = toValue(carrier[i]);
      if (typeof k === 'string' && k.toLowerCase() === name) {
        const v = toValue(carrier[i + 1]);
        if (typeof v === 'string') (found ??= []).push(v);
      }
    }
  }
  if (found === undefined) return undefined;
  return found.length === 1 ? found[0] : found;
}

/** Reads any supported carrier; never throws, never reads inherited properties. */
export const defaultGetter: CarrierGetter = {
  get(carrier, name) {
    if (carrier === null || typeof carrier !== 'object') return undefined;
    if (Array.isArray(carrier)) return getFromArray(carrier, name);
    if (carrier instanceof Map) {
      const direct = carrier.get(name);
      if (direct !== undefined) return toValue(direct);
      for (const [k, v] of carrier) if (typeof k === 'string' && k.toLowerCase() === name) return toValue(v);
      return undefined;
    }
    if (isHeadersLike(carrier)) {
      const v = carrier.get(name);
      return v === null ? undefined : v;
    }
    const obj = carrier as Record<string, unknown>;
    if (hasOwn.call(obj, name)) return toValue(obj[name]);
    // Plain objects written by hand may use any case ("Traceparent", "X-B3-TraceId"). for-in, not
    // Object.keys: a header that is simply absent (the common case) then allocates nothing.
    let found: string | readonly string[] | undefined;
    for (const k in obj) {
      if (k.length === name.length && (k.charCodeAt(0) | 0x20) === name.charCodeAt(0) && k !== name && k.toLowerCase() === name && hasOwn.call(obj, k)) {
        const v = toValue(obj[k]);
        if (v === undefined) continue;
        if (found === undefined) found = v;
        else found = ([] as string[]).concat(found, v);
      }
    }
    return found;
  },
  keys(carrier) {
    if (carrier === null || typeof carrier !== 'object') return [];
    const out: string[] = [];
    if (Array.isArray(carrier)) {
      if (carrier.length > 0 && Array.isArray(carrier[0])) {
        for (const pair of carrier as unknown[][]) if (typeof pair[0] === 'string') out.push(pair[0].toLowerCase());
      } else {
        for (let i = 0; i < carrier.length; i += 2) {
          const k = toValue(carrier[i]);
          if (typeof k === 'string') out.push(k.toLowerCase());
        }
      }
    } else if (carrier instanceof Map) {
      for (const k of carrier.keys()) if (typeof k === 'string') out.push(k.toLowerCase());
    } else if (isHeadersLike(carrier)) {
      carrier.forEach((_v, k) => out.push(k.toLowerCase()));
    } else {
      for (const k of Object.keys(carrier)) out.push(k.toLowerCase());
    }
    return out;
  },
};

/** Writes any supported carrier, replacing an existing header of the same name (any case). */
export const defaultSetter: CarrierSetter = {
  set(carrier, name, value) {
    if (carrier === null || typeof carrier !== 'object') return;
    if (Array.isArray(carrier)) {
      if (carrier.length > 0 && Array.isArray(carrier[0])) {
        for (let i = carrier.length - 1; i >= 0; i--) {
          const pair = carrier[i] as unknown[];
          if (typeof pair[0] === 'string' && pair[0].toLowerCase() === name) carrier.splice(i, 1);
        }
        carrier.push([name, value]);
      } else {
        for (let i = carrier.length - 2; i >= 0; i -= 2) {
          const k = toValue(carrier[i]);
          if (typeof k === 'string' && k.toLowerCase() === name) carrier.splice(i, 2);
        }
        carrier.push(name, value);
      }
      return;
    }
    if (carrier instanceof Map) {
      carrier.set(name, value);
      return;
    }
    if (isHeadersLike(carrier)) {
      carrier.set(name, value);
      return;
    }
    const obj = carrier as Record<string, unknown>;
    // Drop the same header in another case; the length and first-letter checks skip nearly every key cheaply.
    const first = name.charCodeAt(0);
    for (const k in obj) {
      if (k.length === name.length && (k.charCodeAt(0) | 0x20) === first && k !== name && hasOwn.call(obj, k) && k.toLowerCase() === name) delete obj[k];
    }
    // A key named "__proto__" must not change the prototype: define it as an own property instead.
    if (name === '__proto__') Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
    else obj[name] = value;
  },
};

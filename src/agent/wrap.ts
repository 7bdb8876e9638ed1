import { copyNameAndLength } from '../util/function-shape.js';
import { describeError, log } from '../util/log.js';

// Wrapper → the function it replaced. Lets `wrap` refuse to wrap its own wrapper twice (a module
// loaded by two paths, or two instrumentations on one method) and `unwrap` know what is ours.
// Kept on the side on purpose: shimmer's `__wrapped`/`__unwrap` marks on the wrapper would make
// another agent in the process (OpenTelemetry's instrumentations check `isWrapped`) unwrap ours
// before wrapping, leaving that method untraced by us whenever that agent loads after ours.
const originals = new WeakMap<Function, Function>();

/** How `wrapMethod` installs a wrapper. */
export interface WrapOptions {
  /**
   * The wrapper catches every error of its own and then calls the original as it is: it is
   * installed as it is, without the guard layer (`guardWrapper`) around it. For wrappers called on
   * every event of every request (`emit`): the guard's two extra calls are shared by every wrapped
   * method, so V8 cannot inline them anywhere, and each copies the arguments.
   */
  ownGuard?: boolean;
}

/** A `wrap` that happened, so a failing `patch` can be undone exactly. */
export interface WrapRecord {
  target: object;
  name: PropertyKey;
}

/** `fn` without the agent's wrappers around it (itself when it is not one of ours). */
export function unwrapped<T>(fn: T): T {
  let f = fn as unknown as Function;
  while (originals.has(f)) f = originals.get(f)!;
  return f as unknown as T;
}

/** True when `fn` is a wrapper the agent installed. */
export function isAgentWrapper(fn: unknown): boolean {
  return typeof fn === 'function' && originals.has(fn);
}

/**
 * Replaces `target[name]` with `wrapper(original)`, keeping the original's `name` and `length`
 * (frameworks read `fn.length`, e.g. Express error handlers). Returns false, without touching
 * anything, when the property is not a function or is already an agent wrapper.
 */
export function wrapMethod(target: object, name: PropertyKey, wrapper: (original: any) => any, record?: WrapRecord[], options?: WrapOptions): boolean {
  const holder = target as Record<PropertyKey, unknown>;
  const original = holder[name];
  if (typeof original !== 'function') {
    // A missing or non-function property is the library's business (it may be optional): say so at debug only.
    log.debug(`nothing to wrap: ${String(name)} is ${typeof original}`);
    return false;
  }
  if (originals.has(original)) return false;
  const wrapped = options?.ownGuard === true ? ownGuarded(original, wrapper, String(name)) : guardWrapper(original, wrapper, String(name));
  if (wrapped === null) return false;
  copyNameAndLength(wrapped, original);
  replaceProperty(holder, name, wrapped);
  if (holder[name] !== wrapped) return false;
  originals.set(wrapped, original);
  record?.push({ target, name });
  return true;
}

/** Restores what `wrapMethod` replaced, unless someone has wrapped on top of our wrapper since. */
export function unwrapMethod(target: object, name: PropertyKey): void {
  const holder = target as Record<PropertyKey, unknown>;
  const current = holder[name];
  if (typeof current !== 'function' || !originals.has(current)) return;
  replaceProperty(holder, name, originals.get(current));
  if (holder[name] !== current) originals.delete(current);
}

/**
 * Sets `holder[name]` as an own, writable, configurable property, keeping whether it was enumerable
 * (a method on a prototype stays hidden from `for…in`). An ES-module namespace (null prototype,
 * not definable) is assigned instead: its writes re-bind the export. A property that can be neither
 * (frozen) is left as it is; the caller sees that and reports nothing wrapped.
 */
function replaceProperty(holder: Record<PropertyKey, unknown>, name: PropertyKey, value: unknown): void {
  if (typeof holder.propertyIsEnumerable !== 'function') {
    holder[name] = value;
    return;
  }
  const enumerable = holder.propertyIsEnumerable(name);
  try {
    Object.defineProperty(holder, name, { configurable: true, enumerable, writable: true, value });
  } catch {
    try {
      holder[name] = value;
    } catch {
      // Frozen: nothing can be replaced here.
    }
  }
}

/** The wrapper's own function, installed without a guard layer (`WrapOptions.ownGuard`). */
function ownGuarded(original: Function, wrapper: (original: any) => any, name: string): Function | null {
  const inner = wrapperResult(wrapper(original), name);
  return inner === original ? null : inner;
}

/** What a wrapper returned, when it is a function to install; null (and a debug line) otherwise. */
function wrapperResult(inner: unknown, name: string): Function | null {
  if (typeof inner === 'function') return inner;
  log.debug(`wrapper for ${name} returned ${typeof inner}; left untouched`);
  return null;
}

const ORIGINAL_RAN = 1;
const ORIGINAL_THREW = 2;

/**
 * Builds `wrapper(original)` so that a synchronous throw of the wrapper's own code never reaches the
 * app: the wrapper gets a stand-in for `original` that remembers how its last call ended, and the
 * installed function tells the wrapper's errors from the original's by that. An error of the
 * original passes through unchanged (same object). An error of the wrapper is logged once and
 * replaced by what the app would have got without it: the original's result when it already ran,
 * else a call of the original. Returns null when the wrapper returns no function.
 */
function guardWrapper(original: Function, wrapper: (original: any) => any, name: string): Function | null {
  let calls = 0;
  let outcome = 0;
  let lastValue: unknown;
  const tracked = function (this: unknown): unknown {
    calls++;
    try {
      lastValue = new.target === undefined ? original.apply(this, arguments) : Reflect.construct(original, arguments, new.target);
      outcome = ORIGINAL_RAN;
    } catch (err) {
      lastValue = err;
      outcome = ORIGINAL_THREW;
    }
    if (outcome === ORIGINAL_THREW) throw lastValue;
    return lastValue;
  };
  if (original.prototype !== undefined) tracked.prototype = original.prototype;
  const inner = wrapperResult(wrapper(tracked), name);
  if (inner === null) return null;
  const installed = function (this: unknown): unknown {
    const before = calls;
    try {
      const result = new.target === undefined ? inner.apply(this, arguments) : Reflect.construct(inner, arguments, new.target);
      lastValue = undefined;
      return result;
    } catch (err) {
      if (calls !== before && outcome === ORIGINAL_THREW) {
        const fromOriginal = lastValue;
        lastValue = undefined;
        if (err !== fromOriginal) log.warnOnce(`wrapper:${name}`, `the agent's wrapper of ${name} replaced an error of the original; the original's error is thrown instead`);
        throw fromOriginal;
      }
      log.warnOnce(`wrapper:${name}`, `internal error in the agent's wrapper of ${name}, carrying on without it: ${describeError(err)}`);
      if (calls === before) return new.target === undefined ? original.apply(this, arguments) : Reflect.construct(original, arguments, new.target);
      const result = lastValue;
      lastValue = undefined;
      return result;
    }
  };
  // Whatever the wrapper put on its function (statics, prototype) must be visible on the installed one.
  for (const key of Reflect.ownKeys(inner)) {
    if (key === 'name' || key === 'length' || key === 'arguments' || key === 'caller') continue;
    const desc = Object.getOwnPropertyDescriptor(inner, key);
    if (desc === undefined) continue;
    try {
      Object.defineProperty(installed, key, desc);
    } catch {
      // A non-configurable own property (prototype of a class): assign where we can.
      if (key === 'prototype') (installed as { prototype: unknown }).prototype = desc.value;
    }
  }
  return installed;
}


import shimmer = require('shimmer');
import { log } from '../util/log.js';

// Wrapper → the function it replaced. Lets `wrap` refuse to wrap its own wrapper twice (a module
// loaded by two paths, or two instrumentations on one method) and `unwrap` know what is ours.
const originals = new WeakMap<Function, Function>();

/** A `wrap` that happened, so a failing `patch` can be undone exactly. */
export interface WrapRecord {
  target: object;
  name: PropertyKey;
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
export function wrapMethod(target: object, name: PropertyKey, wrapper: (original: any) => any, record?: WrapRecord[]): boolean {
  const holder = target as Record<PropertyKey, unknown>;
  const original = holder[name];
  if (typeof original !== 'function') {
    // Checked here so shimmer never prints its own complaint into the app's stderr.
    log.debug(`nothing to wrap: ${String(name)} is ${typeof original}`);
    return false;
  }
  if (originals.has(original)) return false;
  const wrapped = wrapper(original);
  if (typeof wrapped !== 'function') {
    log.debug(`wrapper for ${String(name)} returned ${typeof wrapped}; left untouched`);
    return false;
  }
  keepIdentity(wrapped, original);
  if (typeof holder.propertyIsEnumerable === 'function') {
    shimmer.wrap(holder, name as string, () => wrapped as never);
  } else {
    // An ES-module namespace (null prototype) that shimmer cannot handle: its writes re-bind the export.
    holder[name] = wrapped;
  }
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
  if (typeof holder.propertyIsEnumerable === 'function') shimmer.unwrap(holder, name as string);
  else holder[name] = originals.get(current);
  if (holder[name] !== current) originals.delete(current);
}

function keepIdentity(wrapped: Function, original: Function): void {
  for (const key of ['name', 'length'] as const) {
    try {
      Object.defineProperty(wrapped, key, { value: original[key], configurable: true });
    } catch {
      // A frozen wrapper keeps its own name; it still works.
    }
  }
}

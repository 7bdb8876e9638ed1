import { AsyncResource, executionAsyncResource, type AsyncLocalStorage } from 'node:async_hooks';

/**
 * Switching to a context that already exists, without building it again: Node 24's
 * `AsyncLocalStorage` keeps every storage's value in one immutable "frame" (an `AsyncContextFrame`, a
 * map from storage to value), and `storage.run(value, fn)` builds two of them per call, one to enter
 * (a copy of the current frame plus `value`) and one more to leave (a copy again, to restore the
 * value the storage had). A server request's scope is re-entered on every event of its request and
 * response, each time with the same value: the frame made the first time is kept on the scope and
 * switched to, and the prior one switched back, as Node itself does for a timer or a promise.
 *
 * Node has no public API for the switch; the frame's class, with its static `current`/`set`, is
 * the constructor of the frame an `AsyncResource` keeps. Learnt once, checked end to end (a frame
 * entered shows its value through `getStore()`, the prior one is back after), and null when any part
 * is missing or behaves otherwise (Node 20, Node 22 without --experimental-async-context-frame, a
 * future Node): callers then use `storage.run`.
 */
export interface FrameSwitch {
  /** A new frame: the current one with `storage` set to `value` (what `storage.run` would enter). */
  make(storage: AsyncLocalStorage<unknown>, value: unknown): object;
  /** The frame code runs in now. */
  current(): unknown;
  /** Makes `frame` the one code runs in (and every callback, timer and promise it schedules). */
  set(frame: unknown): void;
}

interface FrameClass {
  new (storage: AsyncLocalStorage<unknown>, value: unknown): object;
  current(): unknown;
  set(frame: unknown): void;
}

export function learnFrameSwitch(storage: AsyncLocalStorage<unknown>): FrameSwitch | null {
  try {
    // No run before the key is known: on Node 20 a first `run` enables the storage's async hook.
    if (frameKeyOfAResource() === undefined) return null;
    const probe = {};
    const Frame = storage.run(probe, frameClassOfAResource);
    if (Frame === null) return null;
    const made = new Frame(storage, probe);
    const prior = Frame.current();
    let seen: unknown;
    Frame.set(made);
    try {
      seen = storage.getStore();
    } finally {
      Frame.set(prior);
    }
    if (seen !== probe || storage.getStore() === probe || Frame.current() !== prior) return null;
    return {
      make: (s, value) => new Frame(s, value),
      current: () => Frame.current(),
      set: (frame) => Frame.set(frame),
    };
  } catch {
    return null;
  }
}

function frameKeyOfAResource(): { resource: object; key: symbol } | undefined {
  const resource = new AsyncResource('acme.tracing.frameProbe', { requireManualDestroy: true });
  const key = Object.getOwnPropertySymbols(resource).find((k) => k.description === 'context_frame');
  return key === undefined ? undefined : { resource, key };
}

/** Inside a `run`: the class of the frame a resource made now keeps (there is one: the run's). */
function frameClassOfAResource(): FrameClass | null {
  const found = frameKeyOfAResource();
  if (found === undefined) return null;
  const frame = (found.resource as Record<symbol, unknown>)[found.key];
  const Frame = frame !== null && typeof frame === 'object' ? (frame as { constructor?: unknown }).constructor : undefined;
  if (typeof Frame !== 'function') return null;
  const statics = Frame as unknown as Partial<FrameClass>;
  if (typeof statics.current !== 'function' || typeof statics.set !== 'function' || Frame.length !== 2) return null;
  return Frame as unknown as FrameClass;
}

/**
 * The same shortcut where there are no frames (Node 20, Node 22 without
 * --experimental-async-context-frame): a storage keeps its value on the current async resource, under
 * its own key (`storage.kResourceStore`), and `storage.run(value, fn)` reads the resource twice (once
 * in `getStore`, to skip an unchanged value; once to store the new one: each an
 * `executionAsyncResource()`, a C++ call on a native resource such as a request's parser) and passes
 * the call through a rest-argument array and `Reflect.apply`. Knowing the key, a re-entry reads the
 * resource once and sets, then restores, the same property `run` would.
 *
 * Learnt once, checked end to end inside a `run` (the key holds the run's value, a value set under it
 * shows through `getStore()`, the run's is back after), and null when any part is missing or behaves
 * otherwise: callers then use `storage.run`. The `run` also enables the storage, as the first `run` of
 * a request would; nothing here disables it.
 */
export function learnResourceKey(storage: AsyncLocalStorage<unknown>): symbol | null {
  try {
    const key = (storage as unknown as { kResourceStore?: unknown }).kResourceStore;
    if (typeof key !== 'symbol' || typeof (storage as unknown as { enabled?: unknown }).enabled !== 'boolean') return null;
    const probe = {};
    const inner = {};
    const works = storage.run(probe, () => {
      const resource = executionAsyncResource() as unknown as Record<symbol, unknown> | null;
      if (resource === null || typeof resource !== 'object' || resource[key] !== probe) return false;
      let seen: unknown;
      resource[key] = inner;
      try {
        seen = storage.getStore();
      } finally {
        resource[key] = probe;
      }
      return seen === inner && storage.getStore() === probe;
    });
    return works === true && storage.getStore() !== probe ? key : null;
  } catch {
    return null;
  }
}

/**
 * Gives `wrapper` the `name` and `length` of `original`, so code that reads them sees the original:
 * frameworks tell error handlers by `length` (Express), and names show in stack traces and
 * debuggers. Never throws: a frozen function keeps its own. Returns `wrapper`.
 */
export function copyNameAndLength<F extends Function>(wrapper: F, original: Function): F {
  for (const key of ['name', 'length'] as const) {
    try {
      Object.defineProperty(wrapper, key, { value: original[key], configurable: true });
    } catch {
      // Cosmetic: the wrapper still works.
    }
  }
  return wrapper;
}

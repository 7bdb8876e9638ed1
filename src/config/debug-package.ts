/**
 * Whether the `debug` package (a dependency of require-in-the-middle) could print anything:
 * only when its own `DEBUG` variable is set. Read here because `src/config/` is the one place that
 * reads the environment; this is not agent configuration and is not in the configuration table.
 */
export function debugPackageWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.DEBUG;
  return typeof value === 'string' && value.trim() !== '';
}

import { moduleTrailer } from './targets.js';
import type { TrailerLoaderOptions } from './webpack.js';

/** The part of webpack's loader context this loader uses. */
interface LoaderContext {
  getOptions(): TrailerLoaderOptions;
  resourcePath: string;
  emitWarning(warning: Error): void;
}

/**
 * The loader `TracingWebpackPlugin` puts in front of each package file an instrumentation targets:
 * appends the trailer that hands the loaded module to the agent. Not meant to be configured by hand.
 */
export default function tracingTrailerLoader(this: LoaderContext, source: string): string {
  const file = this.getOptions();
  // An ES module has no `module.exports` to hand over; webpack would also stop treating it as one.
  if (!file.cjs || /^\s*(?:import\s*[{*\w]|export\s)/m.test(source)) {
    this.emitWarning(new Error(`@acme/tracing-agent/webpack: ${file.name} (${this.resourcePath}) is an ES module; it is bundled untraced (mark it external to trace it)`));
    return source;
  }
  return source + moduleTrailer(file);
}
